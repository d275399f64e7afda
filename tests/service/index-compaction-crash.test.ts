import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect } from 'chai';
import type { Database } from '../../service/src/api/data/database.js';
import { createIndexCompactor } from '../../service/src/api/data/index-compactor.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';
import { expectedPostings, postingRows, storedPostings } from '../support/postings-check.js';

const fragmentsListed = async (db: Database) => Number(((await db.knex('index_fragments').count({ n: '*' })) as Array<{ n: number }>)[0]?.n);

/** A real process killed (SIGKILL) inside a merge, after part of it is rewritten: the database must roll all of it back. */
for (const engine of ENGINES) {
  describe(`a merge of the search index killed midway on ${engine}`, function () {
    this.timeout(120_000);
    const suite = migratedDatabaseForSuite(engine);
    let db: Database;

    before(async function () {
      db = suite.db;
      const store = createRecordsStore({ db, batchSize: 300 });
      // Distinct numbers give thousands of trigrams: the merge rewrites them in several chunks.
      for (let i = 0; i < 400; i += 1) {
        await store.inTransaction((tx) => tx.insert([{ title: `note ${i * 7919} of ${i}`, uri: null, dateMs: Date.UTC(2021, 0, 1), dateRaw: 'x' }]));
      }
    });
    it('loses and duplicates no posting, keeps its fragments listed, and the next merge completes', async function () {
      const rows = await postingRows(db.knex);
      const listed = await fragmentsListed(db);
      expect(listed).to.equal(400);
      const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/compaction-crash-child.ts'], {
        env: { ...process.env, DATABASE_URL: suite.url },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = once(child, 'exit');
      let output = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('midway')) resolve();
        });
        child.on('exit', () => reject(new Error(`the merge process exited before midway: ${output}`)));
      });
      child.kill('SIGKILL');
      await exited;

      expect(await storedPostings(db.knex)).to.deep.equal(await expectedPostings(db.knex));
      expect(await postingRows(db.knex)).to.equal(rows);
      expect(await fragmentsListed(db)).to.equal(listed);

      // MariaDB rolls the killed session back on its own time; its fragments are skipped until then.
      const compactor = createIndexCompactor({ db, limits: { groupSize: 8192, mergeAt: 1, span: 1 << 20 } });
      const deadline = Date.now() + 30_000;
      while ((await compactor.compact()).batches === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      // Merged, and listed again as one fragment (under a group's size, it waits for more writes).
      expect(await fragmentsListed(db)).to.equal(1);
      const expected = await expectedPostings(db.knex);
      expect(await storedPostings(db.knex)).to.deep.equal(expected);
      // All 400 records now fit one group: one row per trigram.
      expect(await postingRows(db.knex)).to.equal(Object.keys(expected).length);
    });
  });
}
