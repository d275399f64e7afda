import { createServer, type Server } from 'node:http';
import type Koa from 'koa';

/**
 * Starts the HTTP server. Timeouts are deliberate: keep-alive outlives the gateway's idle timeout
 * (Kong's upstream keepalive is 60 s) so the gateway closes idle connections first, and
 * headersTimeout exceeds keepAliveTimeout as Node requires. Header size is bounded explicitly.
 */
export function listen(app: Koa, port: number, host: string, requestTimeoutMs = 900_000): Promise<Server> {
  // Headers beyond 16 KiB are refused by Node with 431 before any code of ours runs.
  const server = createServer({ maxHeaderSize: 16 * 1024 }, app.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Bounds a whole request, body included; an NDJSON load of millions of records takes minutes.
  server.requestTimeout = requestTimeoutMs;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
