import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseJsonVariable } from '../shared/environment.js';
import { jwksUri } from '../shared/jwks-uri.js';
import type { TrustedIssuer } from './auth/token-verifier.js';

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
