import { readFileSync } from 'node:fs';
import { fetchKeySet } from '../shared/key-set-fetch.js';
import { redisUrlWith } from '../shared/redis-url.js';
import { createServer, type Server } from 'node:http';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import type { KongSyncConfig } from './config.js';
import { createKongAdmin, type KongAdmin } from '../clients/kong-admin.js';
import { createJwksSync } from './jwks-sync.js';
import type { Jwk } from './kong-consumers.js';

/** The sidecar's metrics: what the Kong alerts (kong/alerts.yaml) watch. */
function createSyncMetrics() {
  const registry = new Registry();
  return {
    registry,
    lastSuccess: new Gauge({ name: 'kong_jwks_sync_last_success_timestamp_seconds', help: 'When a cycle last ended with Kong running its configuration (an issuer whose JWKS failed kept its keys: kong_jwks_fetch_failures_total)', registers: [registry] }),
    keys: new Gauge({ name: 'kong_jwks_keys', help: 'Keys Kong admits per issuer (consumer)', labelNames: ['consumer'], registers: [registry] }),
    fetchFailures: new Counter({ name: 'kong_jwks_fetch_failures_total', help: 'JWKS fetches that failed, per issuer', labelNames: ['consumer'], registers: [registry] }),
    collisions: new Counter({ name: 'kong_jwks_kid_collisions_total', help: 'Keys refused because another issuer already holds their kid, per issuer refused', labelNames: ['consumer'], registers: [registry] }),
    loads: new Counter({ name: 'kong_config_loads_total', help: 'Configurations posted to Kong\'s Admin API', registers: [registry] }),
    // Registered only with a Redis to probe: a gauge is exported as 0 from the start, which paged
    // KongRateLimiterRedisDown where KongRateLimiterUnobserved (absent) was meant.
    redisUp: new Gauge({ name: 'kong_ratelimit_redis_up', help: '1 when the rate limiter\'s Redis answers PING with Kong\'s settings, else 0', registers: [] }),
  };
}

/** Fetches an issuer's JWKS (shared/key-set-fetch.ts: no redirects, bounded in bytes and time). */
export const fetchJwksOver = (uri: string, timeoutMs = 5000): Promise<{ keys: Jwk[] }> => fetchKeySet(uri, { timeoutMs }) as Promise<{ keys: Jwk[] }>;

/**
 * The rate limiter runs `fault_tolerant` (traffic flows when Redis fails), so a wrong host or a
 * Redis outage would make limits silently vanish: this probe makes it a metric and an alert.
 */
export function createRedisProbe(redis: KongSyncConfig['redis']) {
  if (!redis) return { check: async () => null as boolean | null, close: async () => undefined };
  const client = new Redis(redisUrlWith(redis.url, redis.password), {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => 2000,
  });
  client.on('error', () => undefined); // the gauge reports it
  return {
    async check(): Promise<boolean | null> {
      try {
        if (client.status === 'wait') await client.connect();
        return (await Promise.race([client.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000))])) === 'PONG';
      } catch {
        return false;
      }
    },
    async close(): Promise<void> {
      client.disconnect();
    },
  };
}

/** Runs the sidecar until SIGTERM: a cycle every interval, metrics on their port. */
export async function runKongSync(config: KongSyncConfig, logger: Logger, admin: KongAdmin = createKongAdmin(config.adminUrl)): Promise<Server> {
  const metrics = createSyncMetrics();
  const refusedKeys = new Set<string>();
  /** The last fetch failure logged per issuer, until a fetch succeeds. */
  const unreachable = new Map<string, string>();
  /** Keys per issuer in the configuration this cycle built. */
  const built = new Map<string, number>();
  const sync = createJwksSync({
    issuers: config.issuers,
    base: readFileSync(config.baseConfigFile, 'utf8'),
    admin,
    overlapMs: config.overlapSeconds * 1000,
    fetchJwks: (uri) => fetchJwksOver(uri),
    events: {
      fetched: (consumer, ok, keys) => {
        if (!ok) metrics.fetchFailures.inc({ consumer });
        else unreachable.delete(consumer);
        built.set(consumer, keys);
      },
      unreachable: (consumer, reason) => {
        // The alert says an issuer's keys cannot be fetched; this says why, once per outage and reason.
        if (unreachable.get(consumer) === reason) return;
        unreachable.set(consumer, reason);
        logger.warn({ consumer, reason }, 'JWKS not fetched; the issuer keeps the keys Kong holds');
      },
      collided: (consumer, kid, holder) => {
        metrics.collisions.inc({ consumer });
        logger.warn({ consumer, kid, holder }, 'key refused: another issuer already holds its kid (Kong needs jwt_secrets keys unique)');
      },
      refused: (consumer, kid, reason) => {
        // Once per key: an issuer publishing an encryption key would otherwise be logged every cycle.
        if (refusedKeys.has(`${consumer} ${kid}`)) return;
        refusedKeys.add(`${consumer} ${kid}`);
        logger.warn({ consumer, kid, reason }, 'key not admitted: Kong cannot use it');
      },
      applied: (changed) => {
        // Only now does Kong admit them: a failed POST /config leaves the gauge at what Kong runs.
        for (const [consumer, keys] of built) metrics.keys.set({ consumer }, keys);
        metrics.lastSuccess.set(Date.now() / 1000);
        if (changed) metrics.loads.inc();
      },
    },
  });
  const probe = createRedisProbe(config.redis);
  if (config.redis) metrics.registry.registerMetric(metrics.redisUp);
  const cycle = async () => {
    try {
      const { changed } = await sync.cycle();
      if (changed) logger.info({ issuers: config.issuers.map((issuer) => ({ consumer: issuer.consumer, kids: sync.kids(issuer.consumer) })) }, 'kong configuration loaded');
    } catch (error) {
      logger.warn({ err: error }, 'kong sync cycle failed; retrying next interval');
    }
    const up = await probe.check();
    if (up !== null) metrics.redisUp.set(up ? 1 : 0);
  };
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return res.writeHead(404).end();
    metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
  });
  // A port in use or an address the pod lacks: a failure naming them, not an unhandled 'error' event.
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: Error) => reject(new Error(`cannot serve metrics on ${config.metricsHost ?? '*'}:${config.metricsPort}`, { cause: error }));
    server.once('error', refuse);
    server.listen(config.metricsPort, config.metricsHost, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  // The next cycle is timed from the end of this one: a slow cycle (a JWKS or Kong at its
  // timeout) never overlaps the next, whose older configuration could be posted last.
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const loop = async () => {
    await cycle();
    if (!closed) timer = setTimeout(loop, config.intervalSeconds * 1000);
  };
  await loop();
  server.on('close', () => {
    closed = true;
    clearTimeout(timer);
    void probe.close();
  });
  return server;
}
