import type { KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
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
};

/** Only asymmetric algorithms: a shared secret would let any verifier mint tokens. */
const ALLOWED_ALGORITHMS = ['RS256', 'ES256'] as const;

/** The token is not acceptable; `reason` is short and never contains the token. */
export class InvalidToken extends Error {}
/** The issuer's keys cannot be fetched right now: an outage, not a bad token. */
export class KeysUnavailable extends Error {}

function scopesOf(payload: JwtPayload): Set<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === 'string') for (const scope of payload.scope.split(' ')) if (scope) scopes.add(scope);
  if (Array.isArray(payload.scp)) for (const scope of payload.scp) if (typeof scope === 'string') scopes.add(scope);
  return scopes;
}

/**
 * Verifies bearer tokens from configured issuers through their JWKS. One jwks-rsa client per
 * issuer caches keys by kid for `jwksCacheSeconds` and rate-limits fetches, so an unknown kid
 * triggers at most a bounded number of refetches (which is how a rotated-in key is found).
 */
export function createTokenVerifier(options: VerifierOptions) {
  const clients = new Map(
    options.issuers.map((trusted) => [
      trusted.issuer,
      {
        trusted,
        jwks: new JwksClient({
          jwksUri: trusted.jwksUri,
          cache: true,
          cacheMaxAge: options.jwksCacheSeconds * 1000,
          rateLimit: true,
          jwksRequestsPerMinute: options.jwksRequestsPerMinute,
          timeout: options.jwksTimeoutMs,
        }),
      },
    ]),
  );

  async function keyFor(jwks: JwksClient, kid: string | undefined): Promise<string> {
    try {
      return (await jwks.getSigningKey(kid)).getPublicKey();
    } catch (error) {
      if ((error as { isEndpointUnavailable?: boolean }).isEndpointUnavailable) {
        throw new KeysUnavailable('the issuer\'s keys cannot be fetched', { cause: error });
      }
      throw new InvalidToken('unknown signing key', { cause: error });
    }
  }

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
    return remote && { issuer: remote.trusted.issuer, audience: remote.trusted.audience, key: (kid: string | undefined) => keyFor(remote.jwks, kid) };
  };

  return {
    async verify(token: string): Promise<Principal> {
      const decoded = jwt.decode(token, { complete: true });
      if (!decoded || typeof decoded.payload !== 'object') throw new InvalidToken('malformed token');
      const { header, payload } = decoded;
      if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) throw new InvalidToken('algorithm not allowed');
      const issuer = trusted(payload.iss);
      if (!issuer) throw new InvalidToken('untrusted issuer');

      const key = await issuer.key(header.kid);
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
      if (typeof verified.sub !== 'string' || verified.sub === '') throw new InvalidToken('token has no subject');
      return { subject: verified.sub, issuer: issuer.issuer, scopes: scopesOf(verified) };
    },
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
