import type Koa from 'koa';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createDatabase, type Database } from './data/database.js';
import { migrateLatest } from './data/migrations/index.js';
import { createRecordsRepository } from './data/records-repository.js';
import { createRecordsService } from './domain/records-service.js';

export type Runtime = { app: Koa; db: Database; close(): Promise<void> };

/** Builds the whole service graph from config. Tests build the same graph with their own config. */
export async function createRuntime(config: Config, logger: Logger): Promise<Runtime> {
  const db = createDatabase(config.databaseUrl);
  // The embedded default has no separate migration step to run, so it migrates itself.
  if (db.engine === 'sqlite') {
    const applied = await migrateLatest(db.knex);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }
  const repository = createRecordsRepository({ db, batchSize: config.insertBatchSize });
  const records = createRecordsService({ repository });
  const app = createApp({ records, logger, bodyLimit: config.bodyLimit });
  return { app, db, close: () => db.close() };
}
