import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { invalidVariable } from '../../shared/environment.js';

export type SigningKey = {
  privateKey: KeyObject;
  kid: string;
  algorithm: 'RS256' | 'ES256';
  /** The public half, as published at /.well-known/jwks.json. */
  publicJwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
};

/** RFC 7638 thumbprint: a kid that changes exactly when the key does. */
function thumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Loads the service's own private key (PEM, RSA or P-256 EC), e.g. from a mounted Secret. */
export function loadSigningKey(path: string): SigningKey {
  const privateKey = createPrivateKey(readFileSync(path));
  const type = privateKey.asymmetricKeyType;
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (type !== 'rsa' && !(type === 'ec' && curve === 'prime256v1')) {
    throw new Error(`${path}: the signing key must be RSA or EC P-256, not ${type}${curve ? ` ${curve}` : ''}`);
  }
  const algorithm = type === 'rsa' ? 'RS256' : 'ES256';
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  return { privateKey, kid, algorithm, publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' } };
}

/**
 * The key at `path`, or null when no file is there: a Secret volume mounted with `optional: true`
 * (an existingSecret without signing-key.pem) leaves the path empty rather than blocking the pod.
 */
export function loadSigningKeyIfPresent(path: string | null): SigningKey | null {
  if (path === null || !existsSync(path)) return null;
  try {
    return loadSigningKey(path);
  } catch (error) {
    // A key of another kind, or no key, stops the start-up naming the variable (it was a stack trace and exit 1).
    throw invalidVariable('SERVICE_KEY_FILE', (error as Error).message.split('\n')[0] ?? '');
  }
}
