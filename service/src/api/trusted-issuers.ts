import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { invalidVariable, parseJsonVariable } from '../shared/environment.js';
import { jwksUri } from '../shared/jwks-uri.js';
import type { TrustedIssuer } from './auth/token-verifier.js';

const trustedIssuers = z.array(
  z.strictObject({
    issuer: z.string().min(1),
    jwksUri,
    audience: z.string().min(1),
  }),
);

/** The file's text, or a configuration error naming the variable (it was a stack trace and exit 1). */
function readIssuersFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidVariable('AUTH_ISSUERS_FILE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * Trusted issuers from AUTH_ISSUERS (JSON) and/or AUTH_ISSUERS_FILE (a JSON file, e.g. a mounted
 * ConfigMap); an issuer may be listed once across both.
 */
export function loadIssuers(inline: string | undefined, file: string | undefined): TrustedIssuer[] {
  const what = 'a JSON list of {"issuer", "jwksUri", "audience"}';
  const listed = (variable: string, text: string) => parseJsonVariable(variable, text, trustedIssuers, what).map((entry) => ({ variable, entry }));
  const all = [...(inline ? listed('AUTH_ISSUERS', inline) : []), ...(file ? listed('AUTH_ISSUERS_FILE', readIssuersFile(file)) : [])];
  const twice = all.find(({ entry }, index) => all.findIndex((other) => other.entry.issuer === entry.issuer) !== index);
  if (twice) {
    // Named by where it is listed: the chart sets AUTH_ISSUERS_FILE alone, and the message named AUTH_ISSUERS.
    const where = [...new Set(all.filter(({ entry }) => entry.issuer === twice.entry.issuer).map(({ variable }) => variable))].join(' and ');
    throw invalidVariable(where, `the issuer ${twice.entry.issuer} is listed twice`);
  }
  return all.map(({ entry }) => entry);
}
