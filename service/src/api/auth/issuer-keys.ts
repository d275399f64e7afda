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
 * The algorithms tokens may be signed with, only asymmetric ones (a shared secret would let any
 * verifier mint tokens); a key of a set verifies one of them or is left out.
 */
export const ALLOWED_ALGORITHMS = ['RS256', 'ES256'] as const;
export type Algorithm = (typeof ALLOWED_ALGORITHMS)[number];
/** A kid's keys by algorithm: RFC 7517 4.5 lets keys of different types share a kid. */
type KeysOfKid = Partial<Record<Algorithm, string>>;

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
  let keys: Map<string | undefined, KeysOfKid> | null = null;
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
    /** The key that signed a token naming `kid` and `algorithm`, as PEM. */
    async key(kid: string | undefined, algorithm: Algorithm): Promise<string> {
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
      const known = keys?.get(kid)?.[algorithm];
      if (known) return known;
      // A kid the set lacks: the fetch under way, or one at most once per interval, may bring it.
      if (inFlight) await inFlight.catch(() => {});
      else if (mayTry()) await tryRefresh();
      const found = keys?.get(kid)?.[algorithm];
      if (found) return found;
      if (failing()) throw unavailable();
      throw new InvalidToken('unknown signing key');
    },
  };
}

/** The algorithm of ALLOWED_ALGORITHMS a public key verifies, or null (RSA under MIN_RSA_BITS, other curves and types). */
function algorithmOf(pem: string): Algorithm | null {
  const key = createPublicKey(pem);
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return (details?.modulusLength ?? 0) >= MIN_RSA_BITS ? 'RS256' : null;
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  return null;
}

/**
 * The set by kid, then algorithm; keys no allowed algorithm verifies are left out. Keys sharing a
 * kid are kept apart by type (a token names both); of two of one type under one kid, which RFC
 * 7517 asks issuers not to publish, the later is kept. A set of one also signs tokens that name no kid.
 */
function keyMap(fetched: Array<{ kid?: string; getPublicKey(): string }>): Map<string | undefined, KeysOfKid> {
  const usable = fetched.flatMap((key) => {
    const pem = key.getPublicKey();
    const algorithm = algorithmOf(pem);
    return algorithm ? [{ kid: key.kid, algorithm, pem }] : [];
  });
  const map = new Map<string | undefined, KeysOfKid>();
  for (const { kid, algorithm, pem } of usable) map.set(kid, { ...map.get(kid), [algorithm]: pem });
  if (usable.length === 1) map.set(undefined, { [usable[0]!.algorithm]: usable[0]!.pem });
  return map;
}
