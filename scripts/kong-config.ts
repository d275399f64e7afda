/**
 * Kong OSS cannot fetch a JWKS, so its jwt plugin needs each issuer's keys as consumer
 * credentials. This turns kong/keys/<consumer>.jwks.json (public keys only) into the
 * `consumers:` section of kong/kong.yaml: one consumer per issuer, one jwt_secrets entry per key
 * (`key` = kid, the JWK's algorithm, the key as SPKI PEM). Everything else in the file is kept.
 *
 * usage: tsx scripts/kong-config.ts [--check]   (--check fails when kong.yaml is out of date)
 */
import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

export const KONG_CONFIG = 'kong/kong.yaml';
export const KEYS_DIR = 'kong/keys';
const ALGORITHMS = new Set(['RS256', 'ES256']);

type Jwk = JsonWebKey & { kid?: string; alg?: string; d?: string };
export type JwtSecret = { key: string; algorithm: string; rsa_public_key: string; secret: string };
export type Consumer = { username: string; tags: string[]; jwt_secrets: JwtSecret[] };

export function consumersFromKeys(dir = KEYS_DIR): Consumer[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jwks.json'))
    .sort()
    .map((file) => {
      const username = file.replace(/\.jwks\.json$/, '');
      const { keys } = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { keys: Jwk[] };
      const jwtSecrets = keys.map((jwk) => {
        if (jwk.d !== undefined) throw new Error(`${file}: ${jwk.kid} is a private key; kong/keys holds public keys only`);
        if (!jwk.kid) throw new Error(`${file}: every key needs a kid (Kong finds the key by it)`);
        if (!jwk.alg || !ALGORITHMS.has(jwk.alg)) throw new Error(`${file}: ${jwk.kid} must declare alg RS256 or ES256`);
        const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
        // `secret` is only used by HS* credentials; Kong pins each credential's algorithm, so an
        // HS256 token never meets this RS256/ES256 credential. decK's schema still requires a value:
        // a digest of the public key, which is public and deterministic.
        const secret = createHash('sha256').update(pem).digest('hex');
        return { key: jwk.kid, algorithm: jwk.alg, rsa_public_key: pem, secret };
      });
      return { username, tags: ['records', 'issuer'], jwt_secrets: jwtSecrets };
    });
}

export function renderKongConfig(current: string, consumers: Consumer[]): string {
  const document = parseDocument(current);
  document.set('consumers', document.createNode(consumers));
  return document.toString({ lineWidth: 0 });
}

function main() {
  const current = readFileSync(KONG_CONFIG, 'utf8');
  const rendered = renderKongConfig(current, consumersFromKeys());
  if (process.argv.includes('--check')) {
    if (rendered !== current) {
      console.error(`${KONG_CONFIG} is out of date with ${KEYS_DIR}: run make kong-config`);
      process.exitCode = 1;
    }
    return;
  }
  writeFileSync(KONG_CONFIG, rendered);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
