import { parse } from 'yaml';
import type { KongAdmin } from '../clients/kong-admin.js';
import { consumerWith, jwtSecretOf, withConsumers, type Consumer, type Jwk, type JwtSecret } from './kong-consumers.js';

/**
 * Keeps a DB-less Kong's consumers in step with the trusted issuers' live JWKS (the sidecar
 * `records kong-sync`). Every cycle fetches each JWKS: a key seen is admitted (so a rotated-in key
 * is accepted within one interval); a key no longer published stays admitted for `overlapMs` after
 * it was last seen (tokens it signed are still in flight), then is dropped. An issuer whose JWKS
 * cannot be fetched keeps its keys: an identity provider's outage must not lock every caller out.
 * A changed configuration, or a Kong that no longer runs the one we gave it (it restarted from the
 * ConfigMap), is posted to Kong's Admin API `/config`.
 */

export type SyncIssuer = { consumer: string; jwksUri: string };

export type SyncEvents = {
  fetched(consumer: string, ok: boolean, keys: number): void;
  applied(changed: boolean): void;
};

type Known = { secret: JwtSecret; lastSeen: number };

export function createJwksSync({
  issuers,
  base,
  admin,
  overlapMs,
  fetchJwks,
  now = () => Date.now(),
  events,
}: {
  issuers: SyncIssuer[];
  /** The declarative config Kong starts from (its ConfigMap); its consumers seed the key set. */
  base: string;
  admin: KongAdmin;
  overlapMs: number;
  fetchJwks: (uri: string) => Promise<{ keys: Jwk[] }>;
  now?: () => number;
  events?: Partial<SyncEvents>;
}) {
  const known = new Map<string, Map<string, Known>>(issuers.map((issuer) => [issuer.consumer, new Map()]));
  // Keys in the starting configuration count as seen now: they stay until the overlap has passed.
  for (const consumer of (parse(base) as { consumers?: Consumer[] }).consumers ?? []) {
    for (const secret of consumer.jwt_secrets ?? []) known.get(consumer.username)?.set(secret.key, { secret, lastSeen: now() });
  }
  let lastAppliedHash: string | null = null;
  let lastAppliedConfig: string | null = null;

  async function refresh(issuer: SyncIssuer): Promise<void> {
    const keys = known.get(issuer.consumer) as Map<string, Known>;
    try {
      const jwks = await fetchJwks(issuer.jwksUri);
      for (const jwk of jwks.keys ?? []) {
        let secret: JwtSecret;
        try {
          secret = jwtSecretOf(jwk, issuer.jwksUri);
        } catch {
          continue; // an encryption key, an HS key, a key without kid: not for Kong
        }
        keys.set(secret.key, { secret, lastSeen: now() });
      }
      // Retire only on what the issuer says: keys it stopped publishing more than overlapMs ago.
      for (const [kid, entry] of keys) if (now() - entry.lastSeen > overlapMs) keys.delete(kid);
      events?.fetched?.(issuer.consumer, true, keys.size);
    } catch {
      events?.fetched?.(issuer.consumer, false, keys.size);
    }
  }

  function consumers(): Consumer[] {
    return issuers
      .map((issuer) => consumerWith(issuer.consumer, [...(known.get(issuer.consumer) as Map<string, Known>).values()].map((entry) => entry.secret)))
      .filter((consumer) => consumer.jwt_secrets.length > 0);
  }

  return {
    /** One cycle: fetch every JWKS, then make Kong run the resulting configuration. */
    async cycle(): Promise<{ config: string; changed: boolean }> {
      await Promise.all(issuers.map(refresh));
      const config = withConsumers(base, consumers());
      const running = await admin.configurationHash();
      const changed = config !== lastAppliedConfig || running !== lastAppliedHash;
      if (changed) {
        lastAppliedHash = await admin.load(config);
        lastAppliedConfig = config;
      }
      events?.applied?.(changed);
      return { config, changed };
    },
    kids(consumer: string): string[] {
      return [...(known.get(consumer)?.keys() ?? [])].sort();
    },
  };
}
