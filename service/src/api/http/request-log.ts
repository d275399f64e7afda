import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.js';
import { requestLineWriter } from '../../shared/logger.js';
import { traceIds } from '../observability/traces.js';

// Kong's correlation-id plugin sends a UUID; anything else that is short and plain is kept too.
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Outermost middleware: assigns the request id (from X-Request-ID, or a new UUID), echoes it,
 * and after the response is final records the duration metric and writes one log line. The
 * route label is the router template, never the raw path, so ids do not explode cardinality.
 */
export function requestObserver({ logger, metrics }: { logger: Logger; metrics: Metrics }): Middleware {
  const writeLine = requestLineWriter(logger);
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const offered = ctx.get('x-request-id');
    const requestId = ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-ID', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = ctx._matchedRoute ? String(ctx._matchedRoute) : 'unmatched';
      metrics.httpRequestDuration.observe({ method: ctx.method, route, status_code: String(ctx.status) }, seconds);
      writeLine({
        requestId,
        method: ctx.method,
        route,
        status: ctx.status,
        durationMs: Math.round(seconds * 100_000) / 100,
        subject: ctx.state.principal?.subject,
        issuer: ctx.state.principal?.issuer,
        ...traceIds(),
      });
    }
  };
}
