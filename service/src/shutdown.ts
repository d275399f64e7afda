import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Runtime } from './runtime.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * SIGTERM handling, in the order Kubernetes needs:
 * 1. readiness turns 503 at once, so endpoints are removed upstream (kube-proxy, Kong);
 * 2. keep serving for `drainSeconds` while that propagates: requests still arriving succeed;
 * 3. stop accepting connections, close idle keep-alive ones, and let in-flight requests finish
 *    (their responses carry `Connection: close`), for at most `timeoutSeconds`;
 * 4. close the database pool and Redis.
 * Returns true when every request finished before the deadline.
 */
export async function shutdownGracefully({
  server,
  runtime,
  logger,
  drainSeconds,
  timeoutSeconds,
}: {
  server: Server;
  runtime: Runtime;
  logger: Logger;
  drainSeconds: number;
  timeoutSeconds: number;
}): Promise<boolean> {
  runtime.beginShutdown();
  logger.info({ drainSeconds }, 'shutdown: readiness now failing; draining');
  await sleep(drainSeconds * 1000);

  const deadlineAt = Date.now() + timeoutSeconds * 1000;
  const closed = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
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
