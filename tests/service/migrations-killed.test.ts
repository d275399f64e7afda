import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { createDatabase } from '../../service/src/api/data/database.js';
import { migrateLatest, migrationConfig, migrationsCurrent } from '../../service/src/api/data/migrations/index.js';
import { foldText } from '../../service/src/api/domain/text.js';
import { createTestDatabase } from '../support/databases.js';
import { expectedPostings, storedPostings } from '../support/postings-check.js';

/**
 * A `records migrate` killed midway (the Job's deadline, an evicted pod) on MariaDB, where each
 * DDL commits at once: the next run must finish the work, not fail on the lock or the tables the
 * killed one left. SQLite's DDL is transactional: a killed run there leaves nothing behind.
 */
describe('a records migrate killed midway, on mysql', function () {
  this.timeout(180_000);

  it('leaves nothing that stops the next run, which builds the whole index', async function () {
    const testDb = await createTestDatabase('mysql');
    const db = createDatabase(testDb.url);
    try {
      for (const name of ['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys']) await db.knex.migrate.up({ ...migrationConfig, name });
      // Enough records that rebuilding the index (0004) takes a while.
      for (let start = 0; start < 60_000; start += 2000) {
        const rows = Array.from({ length: 2000 }, (_, i) => {
          const title = `Château no. ${start + i} de la forêt ${(start + i) % 977}`;
          return { title, uri: null, date_ms: start + i, date_raw: 'x', title_folded: foldText(title), uri_folded: '' };
        });
        await db.knex('records').insert(rows);
      }

      const run = spawn(process.execPath, ['--import', 'tsx', 'service/src/main.ts', 'migrate'], { env: { ...process.env, DATABASE_URL: testDb.url, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
      const exited = once(run, 'exit');
      const started = Date.now();
      while (!(await db.knex.schema.hasTable('title_postings'))) {
        if (run.exitCode !== null || Date.now() - started > 60_000) throw new Error('the run ended before it began rebuilding the index');
        await sleep(5);
      }
      run.kill('SIGKILL');
      await exited;

      const applied = (await db.knex('knex_migrations').pluck('name')) as string[];
      expect(applied, 'the killed run stopped inside 0004').to.not.include('0004_title_postings');
      const [lock] = (await db.knex('knex_migrations_lock').select('is_locked')) as Array<{ is_locked: number }>;
      expect(Number(lock?.is_locked), "knex's lock, left taken by the killed run").to.equal(1);

      expect(await migrateLatest(db.knex)).to.deep.equal(['0004_title_postings', '0005_index_fragments', '0006_text_folding']);
      expect(await migrationsCurrent(db)).to.equal(true);
      expect(await storedPostings(db.knex), 'every posting exactly once').to.deep.equal(await expectedPostings(db.knex));
      expect(await db.knex.schema.hasTable('title_trigrams'), 'replaced by title_postings').to.equal(false);
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});

describe('records migrate runs that meet, on mysql', function () {
  this.timeout(120_000);

  it('take turns: two at once both succeed, and the steps are applied once', async function () {
    const testDb = await createTestDatabase('mysql');
    const [first, second] = [createDatabase(testDb.url), createDatabase(testDb.url)];
    try {
      const applied = await Promise.all([migrateLatest(first.knex), migrateLatest(second.knex)]);
      expect(applied.flat().sort()).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments', '0006_text_folding']);
      expect(await migrationsCurrent(first)).to.equal(true);
    } finally {
      await first.close();
      await second.close();
      await testDb.drop();
    }
  });

  it('make again a table a killed run left without its index, and refuse one that holds rows', async function () {
    const testDb = await createTestDatabase('mysql');
    const db = createDatabase(testDb.url);
    try {
      // What knex's first statement of 0001 makes; its index comes in a later one.
      await db.knex.raw('create table records (id bigint unsigned not null auto_increment primary key, title varchar(255)) default charset = utf8mb4');
      await migrateLatest(db.knex);
      const [indexes] = (await db.knex.raw("show index from records where key_name = 'records_date_id'")) as [unknown[]];
      expect(indexes.length, 'records_date_id, on (date_ms, id)').to.equal(2);

      const other = await createTestDatabase('mysql');
      const otherDb = createDatabase(other.url);
      try {
        await otherDb.knex.raw('create table records (id bigint unsigned not null auto_increment primary key, title varchar(255))');
        await otherDb.knex('records').insert({ title: 'not ours' });
        let failure: unknown;
        await migrateLatest(otherDb.knex).catch((error: unknown) => (failure = error));
        expect(String(failure)).to.contain('table records exists and holds rows, but migration 0001_create_records');
        expect(await otherDb.knex('records').count({ n: '*' })).to.deep.equal([{ n: 1 }]);
      } finally {
        await otherDb.close();
        await other.drop();
      }
    } finally {
      await db.close();
      await testDb.drop();
    }
  });
});

