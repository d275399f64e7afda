import type Koa from 'koa';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { authenticate } from './auth/authenticate.js';
import { loadSigningKey } from './auth/signing-key.js';
import { createTokenVerifier } from './auth/token-verifier.js';
import { createMemoryStore } from './cache/memory-store.js';
import { createDisabledCache, createRecordsCache, type RecordsCache } from './cache/records-cache.js';
import { createRedisStore } from './cache/redis-store.js';
import type { Config } from './config.js';
import { createDatabase, type Database } from './data/database.js';
import { migrateLatest } from './data/migrations/index.js';
import { createRecordsRepository } from './data/records-repository.js';
import { createRecordsService } from './domain/records-service.js';

export type Runtime = { app: Koa; db: Database; cache: RecordsCache; close(): Promise<void> };

function createCache(config: Config['cache'], logger: Logger): RecordsCache {
  if (!config.enabled) return createDisabledCache();
  const store = config.redisUrl
    ? createRedisStore({ url: config.redisUrl, commandTimeoutMs: config.timeoutMs, logger })
    : createMemoryStore({ maxEntries: config.maxEntries, maxBytes: config.maxBytes });
  return createRecordsCache({ store, ttlSeconds: config.ttlSeconds, keyPrefix: config.keyPrefix, logger });
}

/** Builds the whole service graph from config. Tests build the same graph with their own config. */
export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const db = createDatabase(config.databaseUrl);
  // The embedded default has no separate migration step to run, so it migrates itself.
  if (db.engine === 'sqlite') {
    const applied = await migrateLatest(db.knex);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  const repository = createRecordsRepository({ db, batchSize: config.insertBatchSize });
  const cache = createCache(config.cache, logger);
  const records = createRecordsService({ repository, cache });
  const verifier = config.auth.mode === 'required' ? createTokenVerifier(config.auth) : null;
  if (verifier === null) {
    logger.warn('AUTH_MODE=disabled: every request is treated as an authenticated developer. Never run like this outside local development.');
  }
  const signingKey = config.identity.keyFile ? loadSigningKey(config.identity.keyFile) : null;
  const app = createApp({
    records,
    logger,
    bodyLimit: config.bodyLimit,
    authenticate: authenticate({ verifier, logger }),
    signingKey,
  });
  return {
    app,
    db,
    cache,
    close: async () => {
      await cache.close();
      await db.close();
    },
  };
}
