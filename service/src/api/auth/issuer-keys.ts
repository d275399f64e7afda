import { JwksClient } from 'jwks-rsa';
import { fetchKeySet } from '../../shared/key-set-fetch.js';

/** The token is not acceptable; `reason` is short and never contains the token. */
export class InvalidToken extends Error {}
/** The issuer's keys cannot be fetched right now: an outage, not a bad token. */
export class KeysUnavailable extends Error {}

type Options = { jwksUri: string; maxAgeMs: number; unknownKidIntervalMs: number; timeoutMs: number; now?: () => number };

/**
 * One issuer's key set, fetched whole, each fetch within `timeoutMs` (shared/key-set-fetch.ts).
 * The last good set stays in use: when it is older than `maxAgeMs` it is refreshed (once at a
 * time), and if the issuer cannot be reached it keeps serving. A kid it lacks triggers a refresh at most once per `unknownKidIntervalMs` (any kid
 * within the interval is answered from the set as unknown): a flood of made-up kids costs the
 * issuer one fetch per interval and never evicts a real key, where jwks-rsa's per-kid cache and
 * shared limiter let such a flood lock every real token out once its key's entry expired.
 */
export function createIssuerKeys({ jwksUri, maxAgeMs, unknownKidIntervalMs, timeoutMs, now = Date.now }: Options) {
  // jwks-rsa's own request has an idle timeout only: a peer stalling mid-answer held it for good.
  const client = new JwksClient({ jwksUri, cache: false, rateLimit: false, fetcher: (uri) => fetchKeySet(uri, { timeoutMs }) });
  let keys: Map<string | undefined, string> | null = null;
  let fetchedAt = -Infinity;
  let lastAttemptAt = -Infinity;
  let lastFailedAt = -Infinity;
  let inFlight: Promise<void> | null = null;

  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      lastAttemptAt = now();
      try {
        const fetched = await client.getSigningKeys();
        keys = new Map(fetched.map((key) => [key.kid, key.getPublicKey()]));
        // A key set of one also signs tokens that name no kid.
        if (fetched.length === 1) keys.set(undefined, fetched[0]!.getPublicKey());
        fetchedAt = now();
      } catch (error) {
        lastFailedAt = now();
        throw error;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  /** Refreshes the set; a failure is KeysUnavailable (the caller decides whether the last good set will do). */
  async function tryRefresh(): Promise<void> {
    try {
      await refresh();
    } catch (error) {
      // Unreachable, or answering something that is not a key set: either way no key to check with.
      throw new KeysUnavailable('the issuer\'s keys cannot be fetched', { cause: error });
    }
  }

  return {
    async key(kid: string | undefined): Promise<string> {
      // An old set is refreshed first, so a key the issuer removed stops working then; if the fetch
      // fails (within its deadline) the old set is used, and not fetched again before the interval.
      if (keys === null || now() - fetchedAt >= maxAgeMs) {
        if (now() - lastFailedAt >= unknownKidIntervalMs) {
          await tryRefresh().catch((error: unknown) => {
            if (keys === null) throw error; // nothing to fall back on
          });
        } else if (keys === null) {
          throw new KeysUnavailable('the issuer\'s keys cannot be fetched');
        }
      }
      const known = keys?.get(kid);
      if (known) return known;
      // A kid the set lacks: fetched for at most once per interval, whatever the kid; until then unknown.
      if (now() - lastAttemptAt >= unknownKidIntervalMs) {
        await tryRefresh();
        const found = keys?.get(kid);
        if (found) return found;
      }
      throw new InvalidToken('unknown signing key');
    },
  };
}
