import type { Middleware } from 'koa';

/** Headers suited to a JSON API: no sniffing, no framing, no caching by shared caches. */
export const securityHeaders: Middleware = async (ctx, next) => {
  ctx.set({
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Cache-Control': 'no-store',
  });
  await next();
};
