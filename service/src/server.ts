import { createServer, type Server } from 'node:http';
import type Koa from 'koa';

/**
 * Starts the HTTP server. Timeouts are deliberate: keep-alive outlives the gateway's idle timeout
 * (Kong's upstream keepalive is 60 s) so the gateway closes idle connections first, and
 * headersTimeout exceeds keepAliveTimeout as Node requires.
 */
export function listen(app: Koa, port: number, host: string): Promise<Server> {
  const server = createServer(app.callback());
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
