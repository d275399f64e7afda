import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import { lingerAfterAnswer } from './http/lingering-close.js';

/** The most a request line and its headers may take; beyond it Node's parser refuses the request. */
const MAX_HEADER_BYTES = 16 * 1024;

/** A problem document for an answer given before Koa (which has its own, http/problem.ts). */
const problemJson = (status: number, slug: string, detail: string, errors?: Array<{ parameter: string; detail: string }>) =>
  JSON.stringify({ type: `/problems/${slug}`, title: STATUS_CODES[status], status, detail, ...(errors ? { errors } : {}) });

/** A problem answered on the socket itself, before Koa, and the connection closed. */
function answerOnSocket(socket: Duplex, status: number, slug: string, detail: string, headers = ''): void {
  const body = problemJson(status, slug, detail);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Requests Node's parser refuses before any middleware runs (headers or URL over the limit, a
 * malformed request line) are answered as problem+json like every other refusal, not with Node's
 * bare status line; then the connection is closed, since its framing cannot be trusted.
 */
function refuseUnparsable(error: Error & { code?: string }, socket: Duplex): void {
  // Only the parser's own refusals (HPE_*) get an answer; a reset or timed-out socket is just closed.
  if (!socket.writable || !error.code?.startsWith('HPE_')) {
    socket.destroy();
    return;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') answerOnSocket(socket, 431, 'headers-too-large', `The request line and headers take more than ${MAX_HEADER_BYTES} bytes.`);
  else answerOnSocket(socket, 400, 'malformed-request', 'The request is not valid HTTP/1.1.');
}

/** CONNECT asks for a tunnel, which this server never opens (Node closed the connection without an answer). */
function refuseTunnel(_request: IncomingMessage, socket: Duplex): void {
  answerOnSocket(socket, 405, 'method-not-allowed', 'CONNECT is not served here.', 'Allow: \r\n');
}

/**
 * An Expect other than 100-continue (which Node answers itself): refused as a problem, where Node
 * sent a bare 417. Its body, if any, is read and discarded as after any early answer
 * (http/lingering-close.ts): closing at once could reset the answer away.
 */
function refuseExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = problemJson(417, 'expectation-failed', 'The Expect header asks for what this server does not do.', [{ parameter: 'Expect', detail: 'only 100-continue is supported' }]);
  response.writeHead(417, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
  lingerAfterAnswer(request, response);
}

/**
 * Starts the HTTP server, on every address (IPv6 and IPv4) when `host` is undefined. Timeouts are
 * deliberate: keep-alive outlives the gateway's idle timeout (Kong's upstream keepalive is 60 s) so
 * the gateway closes idle connections first, and headersTimeout exceeds keepAliveTimeout (unless the
 * request timeout is shorter still, which then bounds both). Header size is bounded explicitly.
 */
export function listen(app: Koa, port: number, host: string | undefined, requestTimeoutMs = 900_000): Promise<Server> {
  const server = createServer(
    {
      // Headers beyond 16 KiB are refused by Node's parser (refuseUnparsable answers them).
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: 65_000,
      // Bounds a whole request, body included; an NDJSON load of millions of records takes minutes.
      requestTimeout: requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout (when given here, as now).
      headersTimeout: Math.min(66_000, requestTimeoutMs),
      // Node checks both timeouts this often (30 s by default): a short request timeout needs more.
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.ceil(requestTimeoutMs / 8))),
    },
    app.callback(),
  );
  server.on('clientError', refuseUnparsable);
  server.on('connect', refuseTunnel);
  server.on('checkExpectation', refuseExpectation);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
