import Koa, { type Middleware } from 'koa';
import type { Logger } from 'pino';
import type { SigningKey } from './auth/signing-key.js';
import type { RecordsService } from './domain/records-service.js';
import { problemMiddleware } from './http/problem.js';
import { createRecordsRouter } from './http/records-router.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { createWellKnownRouter } from './http/well-known-router.js';

export type AppDependencies = {
  records: RecordsService;
  logger: Logger;
  bodyLimit: number;
  /** Establishes ctx.state.principal on the API routes (token verification, or the dev stand-in). */
  authenticate: Middleware;
  signingKey: SigningKey | null;
};

/** Composes the HTTP application from its parts; nothing here reads config or opens connections. */
export function createApp({ records, logger, bodyLimit, authenticate, signingKey }: AppDependencies): Koa {
  const app = new Koa();
  app.use(requestLog({ logger }));
  app.use(securityHeaders);
  app.use(problemMiddleware({ logger }));

  // Not behind user tokens: the service's public keys.
  const wellKnown = createWellKnownRouter({ signingKey });
  app.use(wellKnown.routes());
  app.use(wellKnown.allowedMethods());

  const router = createRecordsRouter({ records, bodyLimit, authenticate });
  app.use(router.routes());
  app.use(router.allowedMethods());

  // Errors are all handled by problemMiddleware; this only catches socket-level failures.
  app.on('error', (error: Error) => logger.warn({ err: error }, 'connection error'));
  return app;
}
