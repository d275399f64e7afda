import Koa, { type Middleware } from 'koa';
import type { Logger } from 'pino';
import type { SigningKey } from './auth/signing-key.js';
import type { RecordsCache } from './cache/records-cache.js';
import type { RecordsService } from './domain/records-service.js';
import { problemMiddleware } from './http/problem.js';
import { createRecordsRouter } from './http/records-router.js';
import { createDocsRouter } from './http/docs-router.js';
import { createOperationsRouter } from './http/operations-router.js';
import { requestObserver } from './http/request-log.js';
import type { ReadinessCheck } from './observability/health.js';
import type { Metrics } from './observability/metrics.js';
import { responseHeaders } from './http/response-headers.js';
import { createWellKnownRouter } from './http/well-known-router.js';

export type AppDependencies = {
  records: RecordsService;
  /** Serves reads from cached response documents, and is told about writes by the domain. */
  cache: RecordsCache;
  logger: Logger;
  bodyLimit: number;
  bodyRate: number;
  searchesPerCaller: number;
  ndjsonLimits: { body: number; line: number };
  idempotencyTtlMs: number;
  bulkConcurrency: number;
  /** Establishes ctx.state.principal on the API routes (token verification, or the dev stand-in). */
  authenticate: Middleware;
  signingKey: SigningKey | null;
  metrics: Metrics;
  readiness: ReadinessCheck;
  /** True once shutdown stopped accepting connections: responses then ask clients to close theirs. */
  isClosing: () => boolean;
};

/** Composes the HTTP application from its parts; nothing here reads config or opens connections. */
export function createApp(dependencies: AppDependencies): Koa {
  const { records, cache, logger, bodyLimit, bodyRate, searchesPerCaller, ndjsonLimits, idempotencyTtlMs, bulkConcurrency, authenticate, signingKey, metrics, readiness, isClosing } = dependencies;
  const app = new Koa();
  app.use(requestObserver({ logger, metrics }));
  app.use(responseHeaders({ isClosing }));
  app.use(problemMiddleware({ logger }));

  // The API first: its requests, nearly all of the traffic, never run the other routers' matching.
  const router = createRecordsRouter({ records, cache, bodyLimit, bodyRate, searchesPerCaller, ndjsonLimits, idempotencyTtlMs, bulkConcurrency, authenticate });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const operations = createOperationsRouter({ metrics, readiness });
  app.use(operations.routes());
  app.use(operations.allowedMethods());

  // The contract and its documentation page, public like the API's shape itself.
  const docs = createDocsRouter();
  app.use(docs.routes());
  app.use(docs.allowedMethods());

  // Not behind user tokens either: the service's public keys.
  const wellKnown = createWellKnownRouter({ signingKey });
  app.use(wellKnown.routes());
  app.use(wellKnown.allowedMethods());

  // Errors are all handled by problemMiddleware; this only catches socket-level failures.
  app.on('error', (error: Error) => logger.warn({ err: error }, 'connection error'));
  return app;
}
