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
  /** A key whose kid another issuer already holds: refused for this issuer only (Kong needs each jwt_secrets key unique). */
  collided(consumer: string, kid: string, holder: string): void;
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
  /** Another issuer holding `kid`: the first to hold a kid keeps it, so a newcomer cannot break every config post. */
  const holderOf = (kid: string, consumer: string) => [...known].find(([other, keys]) => other !== consumer && keys.has(kid))?.[0];
  let lastAppliedHash: string | null = null;
  let lastAppliedConfig: string | null = null;

  /** Applies one issuer's fetched JWKS (null: the fetch failed, keep its keys). */
  function apply(issuer: SyncIssuer, jwks: { keys: Jwk[] } | null): void {
    const keys = known.get(issuer.consumer) as Map<string, Known>;
    if (jwks === null) {
      events?.fetched?.(issuer.consumer, false, keys.size);
      return;
    }
    for (const jwk of jwks.keys ?? []) {
      let secret: JwtSecret;
      try {
        secret = jwtSecretOf(jwk, issuer.jwksUri);
      } catch {
        continue; // an encryption key, an HS key, a key without kid: not for Kong
      }
      const holder = holderOf(secret.key, issuer.consumer);
      if (holder) {
        events?.collided?.(issuer.consumer, secret.key, holder);
        continue;
      }
      keys.set(secret.key, { secret, lastSeen: now() });
    }
    // Retire only on what the issuer says: keys it stopped publishing more than overlapMs ago.
    for (const [kid, entry] of keys) if (now() - entry.lastSeen > overlapMs) keys.delete(kid);
    events?.fetched?.(issuer.consumer, true, keys.size);
  }

  function consumers(): Consumer[] {
    return issuers
      .map((issuer) => consumerWith(issuer.consumer, [...(known.get(issuer.consumer) as Map<string, Known>).values()].map((entry) => entry.secret)))
      .filter((consumer) => consumer.jwt_secrets.length > 0);
  }

  return {
    /** One cycle: fetch every JWKS, then make Kong run the resulting configuration. */
    async cycle(): Promise<{ config: string; changed: boolean }> {
      // Fetched together, applied in the configured order: which issuer holds a contested kid never depends on timing.
      const fetched = await Promise.all(issuers.map((issuer) => fetchJwks(issuer.jwksUri).catch(() => null)));
      issuers.forEach((issuer, index) => apply(issuer, fetched[index] ?? null));
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
