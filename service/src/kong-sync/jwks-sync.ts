import { parse } from 'yaml';
import type { KongAdmin } from '../clients/kong-admin.js';
import { consumerWith, jwtSecretOf, withConsumers, type Consumer, type Jwk, type JwtSecret } from './kong-consumers.js';

/**
 * Keeps a DB-less Kong's consumers in step with the trusted issuers' live JWKS (the sidecar
 * `records kong-sync`). Every cycle fetches each JWKS: a key seen is admitted (so a rotated-in key
 * is accepted within one interval); a key no longer published stays admitted for `overlapMs` after
 * it was last seen (tokens it signed are still in flight), then is dropped. An issuer whose JWKS
 * cannot be fetched, or holds no key Kong can use, keeps its keys: an identity provider's outage
 * must not lock every caller out. The first cycle starts from the keys Kong runs as well as its
 * ConfigMap's: a sidecar restarted during such an outage would otherwise post the ConfigMap's keys
 * alone, dropping every key rotated in since. A changed configuration, or a Kong that no longer
 * runs the one we gave it (it restarted from the ConfigMap), is posted to Kong's Admin API `/config`.
 */

export type SyncIssuer = { consumer: string; jwksUri: string };

export type SyncEvents = {
  fetched(consumer: string, ok: boolean, keys: number): void;
  /** Why an issuer's JWKS could not be fetched (unreachable, an error status, not a key set, too large). */
  unreachable(consumer: string, reason: string): void;
  /** A published key Kong cannot use (an encryption key, an HS key, no kid, an unknown algorithm). */
  refused(consumer: string, kid: string | undefined, reason: string): void;
  /** A key whose kid another issuer already holds: refused for this issuer only (Kong needs each jwt_secrets key unique). */
  collided(consumer: string, kid: string, holder: string): void;
  /** Kong runs the cycle's configuration (posted when `changed`). */
  applied(changed: boolean): void;
};

type Known = { secret: JwtSecret; lastSeen: number };

/** The kid of a published entry, for reports: any entry, not only a well-formed key. */
const kidOf = (jwk: unknown): string | undefined => (typeof jwk === 'object' && jwk !== null && typeof (jwk as Jwk).kid === 'string' ? (jwk as Jwk).kid : undefined);

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
  /** The declarative config Kong starts from (its ConfigMap); its consumers seed the key set, with those Kong runs. */
  base: string;
  admin: KongAdmin;
  overlapMs: number;
  fetchJwks: (uri: string) => Promise<{ keys: Jwk[] }>;
  now?: () => number;
  events?: Partial<SyncEvents>;
}) {
  const known = new Map<string, Map<string, Known>>(issuers.map((issuer) => [issuer.consumer, new Map()]));
  /** Admits a key unless an issuer earlier in the configured order holds its kid; takes it from later ones. */
  function admit(consumer: string, secret: JwtSecret): void {
    const order = issuers.findIndex((issuer) => issuer.consumer === consumer);
    const holder = issuers.slice(0, order).find((issuer) => known.get(issuer.consumer)?.has(secret.key));
    if (holder) {
      events?.collided?.(consumer, secret.key, holder.consumer);
      return;
    }
    for (const later of issuers.slice(order + 1)) {
      if (known.get(later.consumer)?.delete(secret.key)) events?.collided?.(later.consumer, secret.key, consumer);
    }
    known.get(consumer)?.set(secret.key, { secret, lastSeen: now() });
  }
  // Keys in the starting configuration count as seen now: they stay until the overlap has passed.
  const configured = new Map(((parse(base) as { consumers?: Consumer[] }).consumers ?? []).map((consumer) => [consumer.username, consumer.jwt_secrets ?? []]));
  let seeded = false;
  /** The ConfigMap's keys and those Kong runs, once, before the first fetch is applied. */
  async function seed(): Promise<void> {
    const running = await Promise.all(issuers.map((issuer) => admin.jwtSecrets(issuer.consumer)));
    issuers.forEach((issuer, index) => {
      for (const secret of [...(configured.get(issuer.consumer) ?? []), ...(running[index] ?? [])]) {
        if (!known.get(issuer.consumer)?.has(secret.key)) admit(issuer.consumer, secret);
      }
    });
    seeded = true;
  }
  let lastAppliedHash: string | null = null;
  let lastAppliedConfig: string | null = null;

  /**
   * The keys of a fetched JWKS that Kong can use; refused ones are reported. Of keys sharing a kid
   * (RFC 7517 allows it for keys of different types) Kong holds one: the first listed, on every
   * replica alike; the service itself accepts each (auth/issuer-keys.ts).
   */
  function usable(issuer: SyncIssuer, jwks: { keys: Jwk[] }): JwtSecret[] {
    const secrets: JwtSecret[] = [];
    for (const jwk of jwks.keys ?? []) {
      let secret: JwtSecret;
      try {
        secret = jwtSecretOf(jwk, issuer.jwksUri);
      } catch (error) {
        events?.refused?.(issuer.consumer, kidOf(jwk), (error as Error).message);
        continue;
      }
      if (secrets.some((earlier) => earlier.key === secret.key)) events?.refused?.(issuer.consumer, secret.key, `an earlier key of this set has kid ${secret.key}, and Kong holds one key per kid`);
      else secrets.push(secret);
    }
    return secrets;
  }

  /** Applies one issuer's fetched JWKS (null: the fetch failed, keep its keys). */
  function apply(issuer: SyncIssuer, jwks: { keys: Jwk[] } | null): boolean {
    const keys = known.get(issuer.consumer) as Map<string, Known>;
    const secrets = jwks === null ? [] : usable(issuer, jwks);
    // No key Kong can use is no rotation to nothing: an issuer always signs with some key.
    if (secrets.length === 0) {
      events?.fetched?.(issuer.consumer, false, keys.size);
      return false;
    }
    for (const secret of secrets) admit(issuer.consumer, secret);
    // Retire only on what the issuer says: keys it stopped publishing more than overlapMs ago.
    for (const [kid, entry] of keys) if (now() - entry.lastSeen > overlapMs) keys.delete(kid);
    events?.fetched?.(issuer.consumer, true, keys.size);
    return true;
  }

  function consumers(): Consumer[] {
    return issuers
      .map((issuer) => consumerWith(issuer.consumer, [...(known.get(issuer.consumer) as Map<string, Known>).values()].map((entry) => entry.secret)))
      .filter((consumer) => consumer.jwt_secrets.length > 0);
  }

  return {
    /** One cycle: fetch every JWKS, then make Kong run the resulting configuration. `complete`: every issuer's JWKS was applied. */
    async cycle(): Promise<{ config: string; changed: boolean; complete: boolean }> {
      if (!seeded) await seed();
      // A contested kid goes to the issuer first in the configured order, on every replica alike.
      const fetched = await Promise.all(
        issuers.map((issuer) =>
          fetchJwks(issuer.jwksUri).catch((error: unknown) => {
            events?.unreachable?.(issuer.consumer, error instanceof Error ? error.message : String(error));
            return null;
          }),
        ),
      );
      const applied = issuers.map((issuer, index) => apply(issuer, fetched[index] ?? null));
      const config = withConsumers(base, consumers());
      const running = await admin.configurationHash();
      const changed = config !== lastAppliedConfig || running !== lastAppliedHash;
      if (changed) {
        lastAppliedHash = await admin.load(config);
        lastAppliedConfig = config;
      }
      const complete = applied.every(Boolean);
      events?.applied?.(changed);
      return { config, changed, complete };
    },
    kids(consumer: string): string[] {
      return [...(known.get(consumer)?.keys() ?? [])].sort();
    },
  };
}
