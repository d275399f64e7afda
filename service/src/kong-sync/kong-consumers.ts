import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { parseDocument } from 'yaml';

/**
 * Kong OSS cannot fetch a JWKS, so its jwt plugin needs each trusted issuer's keys as consumer
 * credentials: one consumer per issuer, one jwt_secrets entry per key (`key` = kid, the JWK's
 * algorithm, the key as SPKI PEM). Used by tooling/kong-config.ts (the committed configs) and by
 * `records kong-sync` (the live ones).
 */

export type Jwk = JsonWebKey & { kid?: string; alg?: string; d?: string; use?: string };
export type JwtSecret = { key: string; algorithm: string; rsa_public_key: string; secret: string };
export type Consumer = { username: string; tags: string[]; jwt_secrets: JwtSecret[] };

const ALGORITHMS = new Set(['RS256', 'ES256']);

/**
 * The algorithm Kong pins the key to: its `alg`, or, where the key names none (RFC 7517 makes it
 * optional, and some providers' signing keys omit it), the one its type is used with: RS256 for
 * RSA, ES256 for EC P-256. A token signed otherwise with the key (PS256, say) is refused by Kong.
 */
function algorithmOf(jwk: Jwk): string | undefined {
  if (jwk.alg !== undefined) return jwk.alg;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  return undefined;
}

/** Refuses a key Kong could not use safely, naming it. */
export function jwtSecretOf(jwk: Jwk, where: string): JwtSecret {
  // A key set is fetched JSON: an entry may be anything (null, a number, a key with a numeric kid).
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new Error(`${where}: every key must be a JSON object`);
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') throw new Error(`${where}: a kid must be a string (Kong compares it with the token's, a string)`);
  if (jwk.d !== undefined) throw new Error(`${where}: ${jwk.kid} is a private key; only public keys belong here`);
  if (!jwk.kid) throw new Error(`${where}: every key needs a kid (Kong finds the key by it)`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new Error(`${where}: ${jwk.kid} is for use "${jwk.use}", not for signatures`);
  const alg = algorithmOf(jwk);
  if (!alg || !ALGORITHMS.has(alg)) throw new Error(`${where}: ${jwk.kid} must be RS256 or ES256 (alg, or an RSA or EC P-256 key naming none)`);
  const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  // `secret` is only used by HS* credentials; Kong pins each credential's algorithm, so an HS256
  // token never meets this RS256/ES256 credential. Kong's schema still wants a value: a digest of
  // the public key, which is public and deterministic.
  const secret = createHash('sha256').update(pem).digest('hex');
  return { key: jwk.kid, algorithm: alg, rsa_public_key: pem, secret };
}

/** A consumer (one trusted issuer) with these credentials, in a stable order. */
export function consumerWith(username: string, secrets: JwtSecret[]): Consumer {
  return { username, tags: ['records', 'issuer'], jwt_secrets: [...secrets].sort((a, b) => a.key.localeCompare(b.key)) };
}

export function consumerOf(username: string, keys: Jwk[], where = username): Consumer {
  return consumerWith(username, keys.map((jwk) => jwtSecretOf(jwk, where)));
}

/** `base` (a declarative config, YAML) with its consumers replaced; everything else is kept. */
export function withConsumers(base: string, consumers: Consumer[]): string {
  const document = parseDocument(base);
  document.set('consumers', document.createNode([...consumers].sort((a, b) => a.username.localeCompare(b.username))));
  return document.toString({ lineWidth: 0 });
}
