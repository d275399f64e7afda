#!/usr/bin/env node
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './data/database.js';
import { migrateLatest } from './data/migrations/index.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';
import { listen } from './server.js';

const USAGE = `usage: records <command>

commands:
  serve     serve the HTTP API (migrates the embedded SQLite database first)
  migrate   apply pending database migrations (idempotent)

configuration comes from the environment: PORT, HOST, DATABASE_URL, BODY_LIMIT,
INSERT_BATCH_SIZE, LOG_LEVEL (see README.md)`;

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const runtime = await createRuntime(config, logger);
  const server = await listen(runtime.app, config.port, config.host);
  const { port } = server.address() as AddressInfo;
  logger.info({ port, engine: runtime.db.engine }, 'listening');

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close(() => void runtime.close().then(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function migrate(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config);
  const db = createDatabase(config.databaseUrl);
  try {
    const applied = await migrateLatest(db.knex);
    logger.info({ applied, engine: db.engine }, applied.length > 0 ? 'migrations applied' : 'database already current');
  } finally {
    await db.close();
  }
}

const commands: Record<string, () => Promise<void>> = { serve, migrate };

async function main(argv: string[]): Promise<number> {
  const command = commands[argv[0] ?? ''];
  if (!command) {
    console.error(USAGE);
    return argv[0] === undefined || argv[0] === 'help' || argv[0] === '--help' ? 0 : 2;
  }
  try {
    await command();
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`records: ${error.message}`);
      return 78; // EX_CONFIG
    }
    console.error('records: failed:', error);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== 0) process.exit(code);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
