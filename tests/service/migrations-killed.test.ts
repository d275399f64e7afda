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
