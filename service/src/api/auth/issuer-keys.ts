import { createPublicKey } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { fetchKeySet } from '../../shared/key-set-fetch.js';

/** The token is not acceptable; `reason` is short and never contains the token. */
export class InvalidToken extends Error {}
/** The issuer's keys cannot be fetched right now: an outage, not a bad token. `retryAfterSeconds`: when the next fetch may be tried. */
export class KeysUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

type Options = {
  jwksUri: string;
  maxAgeMs: number;
  unknownKidIntervalMs: number;
  timeoutMs: number;
  now?: () => number;
  /** Told of each fetch that failed, once: a request answered 503 for it, or a background refresh nobody waited for. */
  onFetchFailed?: (error: unknown) => void;
};

/** RSA keys shorter than this are left out of a set: jose and jsonwebtoken would verify with a 512-bit key. */
const MIN_RSA_BITS = 2048;

/**
 * One issuer's key set, fetched whole, each fetch within `timeoutMs` (shared/key-set-fetch.ts).
 * The last good set stays in use and requests do not wait for its refresh: from half its
 * `maxAgeMs` on, a request starts one in the background. Only a set past `maxAgeMs` whose last
 * fetch succeeded (no traffic for a while) is refreshed before the request goes on, so a key the
 * issuer removed stops working within `maxAgeMs`; during an outage the old set keeps serving and a
 * fetch is tried once per `unknownKidIntervalMs`.
 *
 * A kid the set lacks waits for a fetch already under way, or starts one at most once per
 * `unknownKidIntervalMs` (any kid within the interval is answered from the set): a flood of
 * made-up kids costs the issuer one fetch per interval and never evicts a real key, where jwks-rsa's
 * per-kid cache and shared limiter let such a flood lock every real token out once its key's entry
 * expired. While the last fetch failed, such a kid is KeysUnavailable (503), not an invalid token:
 * the issuer may have rotated to it.
 */
export function createIssuerKeys({ jwksUri, maxAgeMs, unknownKidIntervalMs, timeoutMs, now = Date.now, onFetchFailed }: Options) {
  // jwks-rsa's own request has an idle timeout only: a peer stalling mid-answer held it for good.
  const client = new JwksClient({ jwksUri, cache: false, rateLimit: false, fetcher: (uri) => fetchKeySet(uri, { timeoutMs }) });
  let keys: Map<string | undefined, string> | null = null;
  let fetchedAt = -Infinity;
  let lastAttemptAt = -Infinity;
  let lastFailedAt = -Infinity;
  let lastError: unknown;
  let inFlight: Promise<void> | null = null;

  function refresh(): Promise<void> {
    inFlight ??= (async () => {
      lastAttemptAt = now();
      try {
        keys = keyMap(await client.getSigningKeys());
        fetchedAt = now();
      } catch (error) {
        lastFailedAt = now();
        lastError = error;
        onFetchFailed?.(error);
        throw error;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  const failing = () => lastFailedAt > fetchedAt;
  const retryAfterSeconds = () => Math.max(1, Math.ceil((lastAttemptAt + unknownKidIntervalMs - now()) / 1000));
  // The cause is the last fetch's failure, which the service logs.
  const unavailable = (cause: unknown = lastError) => new KeysUnavailable("the issuer's keys cannot be fetched", retryAfterSeconds(), { cause });
  const mayTry = () => now() - lastAttemptAt >= unknownKidIntervalMs;

  /** Refreshes the set; a failure is KeysUnavailable (the caller decides whether the last good set will do). */
  async function tryRefresh(): Promise<void> {
    try {
      await refresh();
    } catch (error) {
      // Unreachable, or answering something that is not a key set: either way no key to check with.
      throw unavailable(error);
    }
  }

  return {
    async key(kid: string | undefined): Promise<string> {
      const age = now() - fetchedAt;
      if (keys === null) {
        if (inFlight) await inFlight.catch(() => {});
        else if (mayTry()) await tryRefresh();
        if (keys === null) throw unavailable();
      } else if (age >= maxAgeMs && !failing()) {
        await tryRefresh().catch(() => {});
      } else if (age >= maxAgeMs / 2 && !inFlight && (!failing() || mayTry())) {
        refresh().catch(() => {});
      }
      const known = keys?.get(kid);
      if (known) return known;
      // A kid the set lacks: the fetch under way, or one at most once per interval, may bring it.
      if (inFlight) await inFlight.catch(() => {});
      else if (mayTry()) await tryRefresh();
      const found = keys?.get(kid);
      if (found) return found;
      if (failing()) throw unavailable();
      throw new InvalidToken('unknown signing key');
    },
  };
}

/** The set by kid, RSA keys under MIN_RSA_BITS left out. A set of one also signs tokens that name no kid. */
function keyMap(fetched: Array<{ kid?: string; getPublicKey(): string }>): Map<string | undefined, string> {
  const usable = fetched
    .map((key) => ({ kid: key.kid, pem: key.getPublicKey() }))
    .filter(({ pem }) => (createPublicKey(pem).asymmetricKeyDetails?.modulusLength ?? MIN_RSA_BITS) >= MIN_RSA_BITS);
  const map = new Map<string | undefined, string>(usable.map(({ kid, pem }) => [kid, pem]));
  if (usable.length === 1) map.set(undefined, usable[0]!.pem);
  return map;
}
