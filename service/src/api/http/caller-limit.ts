import type { Principal } from '../auth/principal.js';
import { HttpProblem } from './problem.js';

/** Takes one of `caller`'s slots and returns its release, or refuses with 429 when none is free. */
export type CallerLimit = (caller: Principal | undefined) => () => void;

/**
 * At most `limit` database searches of one caller (the token's issuer and subject) in flight on
 * this process; more are answered 429 at once. Only work that reaches the database takes a slot:
 * cache hits, and misses joining an identical load already running, take none (the read cache
 * asks before it starts a load). Kong limits requests per client IP, and Kong OSS runs one
 * rate-limiting plugin per request, its consumers being the issuers (one budget for all of an
 * issuer's users), so the per-caller bound lives here: one caller cannot occupy the database with
 * many slow searches from many addresses (each also bounded by SEARCH_TIME_LIMIT_MS).
 */
export function callerLimit(limit: number): CallerLimit {
  const inFlight = new Map<string, number>();
  return (principal) => {
    const caller = `${principal?.issuer ?? ''}\0${principal?.subject ?? ''}`;
    const running = inFlight.get(caller) ?? 0;
    if (running >= limit) {
      throw new HttpProblem(429, 'too-many-searches', `At most ${limit} searches of one caller run at once; retry when one has finished.`, [], { 'Retry-After': '1' });
    }
    inFlight.set(caller, running + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (inFlight.get(caller) ?? 1) - 1;
      if (left === 0) inFlight.delete(caller);
      else inFlight.set(caller, left);
    };
  };
}
