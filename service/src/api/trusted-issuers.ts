import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseJsonVariable } from '../shared/environment.js';
import type { TrustedIssuer } from './auth/token-verifier.js';

/**
 * Plain http only where no one outside can tamper with it: this pod's loopback, or a Service in
 * the cluster (another release's JWKS, `<name>.<namespace>.svc[.cluster.local]`). Elsewhere, keys
 * swapped on the way would let whoever swapped them mint any token.
 */
const PLAIN_HTTP_HOSTS = /^(127\.0\.0\.1|\[::1\]|localhost|[a-z0-9-]+\.[a-z0-9-]+\.svc(\.cluster\.local)?)$/;
const jwksUri = z.url({ protocol: /^https?$/ }).refine((uri) => {
  const url = new URL(uri);
  return url.protocol === 'https:' || PLAIN_HTTP_HOSTS.test(url.hostname);
}, 'must be https:// (plain http only on loopback or to a cluster Service, <name>.<namespace>.svc[.cluster.local])');

const trustedIssuers = z.array(
  z.strictObject({
    issuer: z.string().min(1),
    jwksUri,
    audience: z.string().min(1),
  }),
);

/**
 * Trusted issuers from AUTH_ISSUERS (JSON) and/or AUTH_ISSUERS_FILE (a JSON file, e.g. a mounted
 * ConfigMap); an issuer may be listed once across both.
 */
export function loadIssuers(inline: string | undefined, file: string | undefined): TrustedIssuer[] {
  const what = 'a JSON list of {"issuer", "jwksUri", "audience"}';
  const all = [
    ...(inline ? parseJsonVariable('AUTH_ISSUERS', inline, trustedIssuers, what) : []),
    ...(file ? parseJsonVariable('AUTH_ISSUERS_FILE', readFileSync(file, 'utf8'), trustedIssuers, what) : []),
  ];
  if (new Set(all.map((entry) => entry.issuer)).size !== all.length) {
    throw new ConfigError('invalid configuration:\n  AUTH_ISSUERS: an issuer is listed twice');
  }
  return all;
}
