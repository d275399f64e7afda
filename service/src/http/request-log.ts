import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** One log line per request, written after the response status is final. */
export function requestLog({ logger }: { logger: Logger }): Middleware {
  return async (ctx, next) => {
    if (!logger.isLevelEnabled('info')) return next();
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: ctx.method, route: ctx._matchedRoute ?? 'unmatched', status: ctx.status, durationMs: Math.round(durationMs * 100) / 100 },
        'request',
      );
    }
  };
}
