import Koa from 'koa';
import type { Logger } from 'pino';
import type { RecordsService } from './domain/records-service.js';
import { problemMiddleware } from './http/problem.js';
import { createRecordsRouter } from './http/records-router.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';

export type AppDependencies = {
  records: RecordsService;
  logger: Logger;
  bodyLimit: number;
};

/** Composes the HTTP application from its parts; nothing here reads config or opens connections. */
export function createApp({ records, logger, bodyLimit }: AppDependencies): Koa {
  const app = new Koa();
  app.use(requestLog({ logger }));
  app.use(securityHeaders);
  app.use(problemMiddleware({ logger }));

  const router = createRecordsRouter({ records, bodyLimit });
  app.use(router.routes());
  app.use(router.allowedMethods());

  // Errors are all handled by problemMiddleware; this only catches socket-level failures.
  app.on('error', (error: Error) => logger.warn({ err: error }, 'connection error'));
  return app;
}
