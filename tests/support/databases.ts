import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import type { Engine } from '../../service/src/api/data/database.js';

/**
 * The databases every API test runs against. MariaDB comes from scripts/with-test-servers
 * (TEST_MYSQL_URL); running without it is an error, not a silent skip.
 */
export const ENGINES: Engine[] = (process.env.TEST_DATABASES ?? 'sqlite,mysql').split(',') as Engine[];

export type TestDatabase = { engine: Engine; url: string; drop(): Promise<void> };

function mysqlServerUrl(): URL {
  const url = process.env.TEST_MYSQL_URL;
  if (!url) throw new Error('TEST_MYSQL_URL is not set: run the tests through `make test` (scripts/with-test-servers)');
  return new URL(url);
}

/** A fresh, empty database: a new schema on the MariaDB test server, or a new SQLite file. */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'records-sqlite-'));
    return { engine, url: join(dir, 'records.sqlite'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = mysqlServerUrl();
  const name = `records_t_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'mysql2', connection: server.toString() });
  try {
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4', [name]);
  } finally {
    await admin.destroy();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    engine,
    url: url.toString(),
    drop: async () => {
      const cleanup = knex({ client: 'mysql2', connection: server.toString() });
      try {
        await cleanup.raw('DROP DATABASE IF EXISTS ??', [name]);
      } finally {
        await cleanup.destroy();
      }
    },
  };
}
