import type { KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { ALLOWED_ALGORITHMS, createIssuerKeys, InvalidToken, KeysUnavailable, type Algorithm } from './issuer-keys.js';
import type { Principal } from './principal.js';

export type TrustedIssuer = { issuer: string; jwksUri: string; audience: string };

/** An issuer whose public key is known locally (the service itself): no JWKS fetch. */
export type LocalIssuer = { issuer: string; audience: string; kid: string; publicKey: KeyObject };

export type VerifierOptions = {
  issuers: TrustedIssuer[];
  localIssuers?: LocalIssuer[];
  clockToleranceSeconds: number;
  jwksCacheSeconds: number;
  jwksRequestsPerMinute: number;
  jwksTimeoutMs: number;
  /** The longest a token may live, from its `iat` (or from now, without one) to its `exp`. */
  maxTokenLifetimeSeconds: number;
  /** The clock key sets age by (milliseconds since the epoch). */
  now?: () => number;
  /** Told of each failed fetch of an issuer's key set, once per fetch (however many requests it fails). */
  onKeyFetchFailed?: (failure: { issuer: string; jwksUri: string; error: unknown }) => void;
};

export { InvalidToken, KeysUnavailable };

/** `scope` and `scp`, each a space-separated string (RFC 8693; Azure AD's `scp`) or an array. */
function scopesOf(payload: JwtPayload): Set<string> {
  const scopes = new Set<string>();
  for (const claim of [payload.scope, payload.scp]) {
    const listed: unknown[] = typeof claim === 'string' ? claim.split(' ') : Array.isArray(claim) ? claim : [];
    for (const scope of listed) if (typeof scope === 'string' && scope !== '') scopes.add(scope);
  }
  return scopes;
}

/**
 * Verifies bearer tokens from configured issuers through their JWKS, each issuer's key set held by
 * issuer-keys.ts: refreshed when it is older than `jwksCacheSeconds`, and for a kid it lacks at
 * most once per 60 / `jwksRequestsPerMinute` seconds, so tokens with made-up kids can neither
 * hammer the issuer nor push its real keys out.
 */
export function createTokenVerifier(options: VerifierOptions) {
  const clients = new Map(
    options.issuers.map((trusted) => [
      trusted.issuer,
      {
        trusted,
        keys: createIssuerKeys({
          jwksUri: trusted.jwksUri,
          maxAgeMs: options.jwksCacheSeconds * 1000,
          unknownKidIntervalMs: 60_000 / options.jwksRequestsPerMinute,
          timeoutMs: options.jwksTimeoutMs,
          now: options.now,
          onFetchFailed: (error) => options.onKeyFetchFailed?.({ issuer: trusted.issuer, jwksUri: trusted.jwksUri, error }),
        }),
      },
    ]),
  );

  const locals = new Map((options.localIssuers ?? []).map((local) => [local.issuer, local]));
  const trusted = (iss: unknown) => {
    if (typeof iss !== 'string') return undefined;
    const local = locals.get(iss);
    if (local) {
      const key = async (kid: string | undefined) => {
        if (kid !== local.kid) throw new InvalidToken('unknown signing key');
        return local.publicKey;
      };
      return { issuer: local.issuer, audience: local.audience, key };
    }
    const remote = clients.get(iss);
    return remote && { issuer: remote.trusted.issuer, audience: remote.trusted.audience, key: (kid: string | undefined, algorithm: Algorithm) => remote.keys.key(kid, algorithm) };
  };

  return {
    async verify(token: string): Promise<Principal> {
      const decoded = decodeToken(token);
      if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) throw new InvalidToken('malformed token');
      const { header, payload } = decoded;
      if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) throw new InvalidToken('algorithm not allowed');
      // Extensions the token says must be understood (RFC 7515 §4.1.11): this verifier knows none.
      if ((header as { crit?: unknown }).crit !== undefined) throw new InvalidToken('critical header parameter not understood');
      const issuer = trusted(payload.iss);
      if (!issuer) throw new InvalidToken('untrusted issuer');

      const key = await issuer.key(header.kid, header.alg as Algorithm);
      let verified: JwtPayload;
      try {
        verified = jwt.verify(token, key, {
          algorithms: [...ALLOWED_ALGORITHMS],
          issuer: issuer.issuer,
          audience: issuer.audience,
          clockTolerance: options.clockToleranceSeconds,
        }) as JwtPayload;
      } catch (error) {
        const name = (error as Error).name;
        throw new InvalidToken(name === 'TokenExpiredError' ? 'token expired' : name === 'NotBeforeError' ? 'token not yet valid' : 'invalid token');
      }
      if (typeof verified.exp !== 'number') throw new InvalidToken('token has no expiry');
      const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
      const issuedAt = typeof verified.iat === 'number' ? Math.min(verified.iat, nowSeconds) : nowSeconds;
      if (verified.exp - issuedAt > options.maxTokenLifetimeSeconds + options.clockToleranceSeconds) throw new InvalidToken('token lives too long');
      if (typeof verified.sub !== 'string' || verified.sub === '') throw new InvalidToken('token has no subject');
      return { subject: verified.sub, issuer: issuer.issuer, scopes: scopesOf(verified) };
    },
  };
}

/** The token's header and claims unverified, or null when they cannot be read (decode throws on a JWT-typed payload that is not JSON). */
function decodeToken(token: string): jwt.Jwt | null {
  try {
    return jwt.decode(token, { complete: true });
  } catch {
    return null;
  }
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
