import { createPublicKey } from 'node:crypto';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { authenticate } from './http/authenticate.js';
import { loadSigningKeyIfPresent } from './auth/signing-key.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import { createMemoryStore } from './cache/memory-store.js';
import { countingOutcomes } from './cache/counting-outcomes.js';
import { createDisabledCache } from './cache/disabled-cache.js';
import { createRecordsCache, type RecordsCache } from './cache/records-cache.js';
import { createRedisStore } from './cache/redis-store.js';
import { assertServable, trustsOnlyItself, type Config } from './config.js';
import { createDatabase, databaseRefusal, type Database } from './data/database.js';
import { POSTING_STATEMENT_BYTES } from './data/postings.js';
import { MAX_RECORD_ROW_BYTES, rowsPerStatement } from './data/record-rows.js';
import { invalidVariable } from '../shared/environment.js';
import { migrateLatest } from './data/migrations/index.js';
import { refoldIfBehind } from './data/refold.js';
import { createIdempotencyStore, largestRemembered } from './data/idempotency-store.js';
import { createRecordsStore } from './data/records-store.js';
import { createPreparerPool } from './data/preparer-pool.js';
import { inlinePreparers } from './data/preparers.js';
import { COMPACTION, createIndexCompactor } from './data/index-compactor.js';
import { createCompactionSchedule } from './data/compaction-schedule.js';
import { createKeyPurge } from './data/key-purge.js';
import { createSearchIndex } from './data/search-index.js';
import { createRecordsService } from './domain/records-service.js';
import { observeQueries } from './observability/db-metrics.js';
import { createReadinessCheck, type ReadinessCheck } from './observability/health.js';
import { createMetrics, type Metrics } from './observability/metrics.js';

export type Runtime = {
  app: Koa;
  db: Database;
  cache: RecordsCache;
  metrics: Metrics;
  readiness: ReadinessCheck;
  /** Marks the process as shutting down: readiness fails; keep-alive connections stay open. */
  beginShutdown(): void;
  /** The listener is closed: responses now ask clients to close their connections. */
  beginClosing(): void;
  close(): Promise<void>;
};

/** How often each replica looks for small writes to merge (other replicas' included). */
const COMPACTION_INTERVAL_MS = 30_000;
const KEY_PURGE_INTERVAL_MS = 10 * 60_000;

/** The cache when CACHE is on: Redis with REDIS_URL, else in this process. */
function createCache(config: Config['cache'], logger: Logger, metrics: Metrics): RecordsCache {
  if (config.redisUrl) metrics.registry.registerMetric(metrics.redisUp);
  const store = config.redisUrl
    ? createRedisStore({
        url: config.redisUrl,
        password: config.redisPassword,
        commandTimeoutMs: config.timeoutMs,
        logger,
        events: { onAvailability: (up) => metrics.redisUp.set(up ? 1 : 0), onError: () => metrics.cacheErrors.inc() },
      })
    : createMemoryStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes });
  return createRecordsCache({ store, ttlSeconds: config.ttlSeconds, keyPrefix: config.keyPrefix, logger });
}

/**
 * Builds the whole service graph from config. Tests build the same graph with their own config,
 * and may give the clock that idempotency keys expire and issuers' key sets age by.
 */
export async function createRuntime(config: Config, logger: Logger, { now = Date.now }: { now?: () => number } = {}): Promise<Runtime> {
  const signingKey = loadSigningKeyIfPresent(config.identity.keyFile);
  if (config.identity.keyFile && !signingKey) logger.warn({ path: config.identity.keyFile }, 'SERVICE_KEY_FILE names no file: the service mints no tokens');
  assertServable(config, signingKey !== null);
  const metrics = createMetrics();
  const rows = Math.min(config.insertBatchSize, rowsPerStatement('mysql'));
  // A stream's batch of INSERT_BATCH_SIZE records is written in INSERTs of `rows` at most, each its own id range.
  const rowsPerInsert = config.insertBatchSize / Math.ceil(config.insertBatchSize / rows);
  const remembered = largestRemembered({ ndjsonBodyLimit: config.ndjson.bodyLimit, rowsPerInsert });
  const largestInsert = { rows, rowBytes: MAX_RECORD_ROW_BYTES, indexBytes: POSTING_STATEMENT_BYTES, remembered };
  const db = createDatabase(config.databaseUrl, { largestInsert });
  const refusal = await databaseRefusal(db);
  if (refusal) {
    await db.close();
    throw invalidVariable(refusal.setting, refusal.message);
  }
  observeQueries(db.knex, metrics);
  // The embedded default has no separate migration step to run, so it migrates itself.
  if (db.engine === 'sqlite') {
    const applied = await migrateLatest(db.knex);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const refolded = await refoldIfBehind(db.knex);
    if (refolded) logger.info(refolded, 'stored text refolded');
  }
  // With CACHE=off no read is counted: "bypass" there is the setting, not Redis failing, and
  // counting it raised RecordsCacheUnavailable on every install without a cache.
  const cache = config.cache.enabled
    ? countingOutcomes(createCache(config.cache, logger, metrics), (operation, outcome) => metrics.cacheRequests.inc({ operation, outcome }))
    : createDisabledCache();
  const compaction = createCompactionSchedule({ compactor: createIndexCompactor({ db }), logger, mergeAt: COMPACTION.mergeAt, intervalMs: COMPACTION_INTERVAL_MS });
  const keyPurge = createKeyPurge({ db, logger, intervalMs: KEY_PURGE_INTERVAL_MS, now });
  const preparers = config.writeWorkers > 0 ? createPreparerPool({ size: config.writeWorkers, nice: config.writeWorkerNice, logger }) : inlinePreparers();
  await preparers.ready;
  const records = createRecordsService({
    store: createRecordsStore({ db, batchSize: config.insertBatchSize, onFragments: compaction.written, preparers }),
    index: createSearchIndex({ db, timeLimitMs: config.searchTimeLimitMs }),
    idempotency: createIdempotencyStore({ db }),
    // Documents are read by the preparers whose sessions insert what they hold.
    reader: preparers,
    observer: { stored: (n) => metrics.recordsIngested.inc(n), rejected: (n) => metrics.recordsRejected.inc(n) },
    streamBatchSize: config.insertBatchSize,
    now,
  });

  const self =
    trustsOnlyItself(config) && signingKey && config.identity.issuer
      ? [{ issuer: config.identity.issuer, audience: config.identity.name, kid: signingKey.kid, publicKey: createPublicKey(signingKey.privateKey) }]
      : [];
  if (self.length > 0) logger.info({ issuer: config.identity.issuer, audience: config.identity.name }, 'no AUTH_ISSUERS: trusting only tokens this service mints');
  // Logged once per failed fetch: every request of an outage fails on the same one, and a flood of
  // made-up kids logged a line each.
  const onKeyFetchFailed = ({ issuer, jwksUri, error }: { issuer: string; jwksUri: string; error: unknown }) =>
    logger.warn({ err: error, issuer, jwksUri }, "an issuer's keys could not be fetched: tokens signed by keys not cached are answered 503 until a fetch succeeds");
  const verifier = config.auth.mode === 'required' ? createTokenVerifier({ ...config.auth, localIssuers: self, now, onKeyFetchFailed }) : null;
  if (verifier === null) {
    logger.warn('AUTH_MODE=disabled: every request is treated as an authenticated developer. Never run like this outside local development.');
  }

  let shuttingDown = false;
  let closing = false;
  const isShuttingDown = () => shuttingDown;
  const readiness = createReadinessCheck({ db, metrics, isShuttingDown });
  const app = createApp({
    records,
    cache,
    logger,
    bodyLimit: config.bodyLimit,
    bodyRate: config.bodyMinBytesPerSecond,
    searchesPerCaller: config.searchesPerCaller,
    ndjsonLimits: { body: config.ndjson.bodyLimit, line: config.ndjson.maxLineBytes },
    idempotencyTtlMs: config.idempotencyTtlSeconds * 1000,
    bulkConcurrency: config.bulkConcurrency,
    authenticate: authenticate({ verifier }),
    signingKey,
    metrics,
    readiness,
    isClosing: () => closing,
  });
  return {
    app,
    db,
    cache,
    metrics,
    readiness,
    beginShutdown: () => {
      shuttingDown = true;
    },
    beginClosing: () => {
      closing = true;
    },
    close: async () => {
      await compaction.stop();
      await keyPurge.stop();
      await preparers.close();
      await cache.close();
      await db.close();
    },
  };
}
