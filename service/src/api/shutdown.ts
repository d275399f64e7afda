import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Runtime } from './runtime.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Node's own closeIdleConnections (which http.Server#close also calls) destroys a connection the
 * moment it has no request in flight, including one whose client is writing its next request or
 * has just connected: that client sees ECONNRESET. Closing only connections idle for this long
 * leaves no such race with clients that keep sending.
 */
const IDLE_CLOSE_MS = 1000;

/** Tracks when each open connection last finished a response (or connected). */
export function trackConnections(server: Server) {
  const idleSince = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    idleSince.set(socket, Date.now());
    socket.once('close', () => idleSince.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    idleSince.set(request.socket, Infinity);
    response.once('close', () => {
      if (idleSince.has(request.socket)) idleSince.set(request.socket, Date.now());
    });
  });
  return {
    closeIdleFor(ms: number): void {
      const cutoff = Date.now() - ms;
      for (const [socket, since] of idleSince) if (since <= cutoff) socket.destroy();
    },
  };
}

/**
 * SIGTERM handling, in the order Kubernetes needs:
 * 1. readiness turns 503 at once, so endpoints are removed upstream (kube-proxy, Kong);
 * 2. keep serving for `drainSeconds` while that propagates, keep-alive included: asking clients
 *    to reconnect now would only send their new connections to a listener about to close;
 * 3. stop accepting connections (a client connecting now is refused, which is safe to retry) and
 *    let every open one finish: each response now carries `Connection: close`, after which Node
 *    ends that connection cleanly; we close a connection only once it has been idle for
 *    IDLE_CLOSE_MS, and everything at `timeoutSeconds`;
 * 4. close the database pool and Redis.
 * Returns true when every request finished before the deadline.
 */
export async function shutdownGracefully({
  server,
  connections,
  runtime,
  logger,
  drainSeconds,
  timeoutSeconds,
}: {
  server: Server;
  connections: ReturnType<typeof trackConnections>;
  runtime: Runtime;
  logger: Logger;
  drainSeconds: number;
  timeoutSeconds: number;
}): Promise<boolean> {
  runtime.beginShutdown();
  logger.info({ drainSeconds }, 'shutdown: readiness now failing; draining');
  await sleep(drainSeconds * 1000);

  const deadlineAt = Date.now() + timeoutSeconds * 1000;
  // net.Server#close stops listening without http.Server#close's immediate closeIdleConnections.
  const closed = new Promise<boolean>((resolve) => NetServer.prototype.close.call(server, () => resolve(true)));
  runtime.beginClosing();
  const sweeper = setInterval(() => connections.closeIdleFor(IDLE_CLOSE_MS), 100);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutSeconds * 1000);
  });
  const finished = await Promise.race([closed, deadline]);
  clearInterval(sweeper);
  clearTimeout(timer);
  if (!finished) {
    logger.warn({ timeoutSeconds }, 'shutdown: deadline reached; closing the remaining connections');
    server.closeAllConnections();
  }
  // Closing the pool and Redis must not outlive the deadline either (a server may be gone).
  const closedCleanly = await Promise.race([
    runtime.close().then(() => true),
    sleep(Math.max(deadlineAt - Date.now(), 1000)).then(() => false),
  ]);
  if (!closedCleanly) logger.warn('shutdown: database or Redis did not close in time');
  logger.info({ clean: finished && closedCleanly }, 'shutdown: complete');
  return finished && closedCleanly;
}
