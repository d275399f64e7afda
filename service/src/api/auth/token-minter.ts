import jwt from 'jsonwebtoken';
import type { SigningKey } from './signing-key.js';

export type MintRequest = { audience: string; scope: string; subject?: string; ttlSeconds?: number };

/** Re-mint this long before expiry, so a token never expires in flight. */
const RENEW_BEFORE_SECONDS = 30;
const DEFAULT_TTL_SECONDS = 300;

/**
 * Mints short-lived tokens signed with the service's key (`iss` = its issuer URL, `sub` = its
 * name), cached per audience, scope and subject until shortly before they expire.
 */
export function createTokenMinter({ key, issuer, name, now = () => Date.now() }: { key: SigningKey; issuer: string; name: string; now?: () => number }) {
  const cache = new Map<string, { token: string; renewAt: number }>();

  return {
    token({ audience, scope, subject = name, ttlSeconds = DEFAULT_TTL_SECONDS }: MintRequest): string {
      const cacheKey = JSON.stringify([audience, scope, subject, ttlSeconds]);
      const cached = cache.get(cacheKey);
      if (cached && cached.renewAt > now()) return cached.token;
      const issuedAt = Math.floor(now() / 1000);
      const token = jwt.sign({ scope, iat: issuedAt, nbf: issuedAt, exp: issuedAt + ttlSeconds }, key.privateKey, {
        algorithm: key.algorithm,
        keyid: key.kid,
        issuer,
        subject,
        audience,
      });
      const renewAt = (issuedAt + Math.max(ttlSeconds - RENEW_BEFORE_SECONDS, ttlSeconds / 2)) * 1000;
      cache.set(cacheKey, { token, renewAt });
      return token;
    },
  };
}

export type TokenMinter = ReturnType<typeof createTokenMinter>;
