import type { Middleware } from 'koa';

/**
 * Lets at most `limit` requests run the rest of the chain at once; the others wait in arrival
 * order, their bodies unread (TCP back-pressure holds them at the client). Used for bulk loads:
 * each one in flight keeps a request's worth of items alive through the young generation's
 * collections, and those pauses are what reads on the same process feel (docs/performance.md).
 */
export function concurrencyLimit(limit: number): Middleware {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (_ctx, next) => {
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      await next();
    } finally {
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const wake = waiting.shift();
      if (wake) wake();
      else running -= 1;
    }
  };
}
