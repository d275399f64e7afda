import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { createDatabase, type Database, type Engine } from '../../service/src/api/data/database.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';

/**
 * The databases every API test runs against. MariaDB comes from scripts/with-test-servers
 * (TEST_MYSQL_URL); running without it is an error, not a silent skip. Both, always: a variable
 * that named fewer dropped MariaDB from every suite, and the run still passed.
 */
export const ENGINES: Engine[] = ['sqlite', 'mysql'];

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

/**
 * A fresh database of `engine`, migrated, for the enclosing describe: created in a `before` hook
 * (registered first, so the suite's own hooks find it) and closed and dropped after its tests.
 * Read `db` and `url` inside hooks and tests.
 */
export function migratedDatabaseForSuite(engine: Engine): { db: Database; url: string } {
  const suite = {} as { db: Database; url: string };
  let testDb: TestDatabase | undefined;
  before(async function () {
    testDb = await createTestDatabase(engine);
    suite.url = testDb.url;
    suite.db = createDatabase(testDb.url);
    await migrateLatest(suite.db.knex);
  });
  after(async function () {
    await suite.db?.close();
    await testDb?.drop();
  });
  return suite;
}

/**
 * Runs `work` while the database refuses to insert a record titled `title` (a trigger: a real
 * failure of the statement, part-way through a request), and drops the trigger after.
 */
export async function withInsertRefused<T>(db: Knex, engine: Engine, title: string, work: () => Promise<T>): Promise<T> {
  const literal = title.replaceAll("'", "''");
  await db.raw(
    engine === 'sqlite'
      ? `CREATE TRIGGER refuse_title BEFORE INSERT ON records WHEN NEW.title = '${literal}' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`
      : `CREATE TRIGGER refuse_title BEFORE INSERT ON records FOR EACH ROW BEGIN IF NEW.title = '${literal}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'simulated failure'; END IF; END`,
  );
  try {
    return await work();
  } finally {
    await db.raw('DROP TRIGGER refuse_title');
  }
}
