import { expect } from 'chai';
import { createDatabase, type Database } from '../../service/src/api/data/database.js';
import { createIndexCompactor } from '../../service/src/api/data/index-compactor.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { expectedPostings, storedPostings } from '../support/postings-check.js';

/**
 * Two replicas merging at once, beside four clients writing a few records at a time: on MariaDB
 * each replica has its own pool, as pods do; SQLite, the embedded single-process default, is one
 * process with one connection, so there both share it. Every posting must survive exactly once,
 * and no write may fail.
 */
for (const engine of ENGINES) {
  describe(`merges beside writes and another replica's merges on ${engine}`, function () {
    this.timeout(120_000);
    let testDb: TestDatabase;
    const pools: Database[] = [];

    before(async function () {
      testDb = await createTestDatabase(engine);
      for (let i = 0; i < (engine === 'mysql' ? 2 : 1); i += 1) pools.push(createDatabase(testDb.url));
      await migrateLatest((pools[0] as Database).knex);
    });
    after(async function () {
      for (const db of pools) await db.close();
      await testDb?.drop();
    });

    it('keeps every posting exactly once and fails no write', async function () {
      const limits = { groupSize: 64, mergeAt: 8, span: 4096 };
      const replicas = [0, 1].map((n) => {
        const db = pools[n % pools.length] as Database;
        return { store: createRecordsStore({ db, batchSize: 300 }), compactor: createIndexCompactor({ db, limits }) };
      });
      const until = Date.now() + 3000;
      let writes = 0;
      let merged = 0;
      const writer = async (n: number) => {
        const { store } = replicas[n % 2] as (typeof replicas)[number];
        for (let i = 0; Date.now() < until; i += 1) {
          const records = Array.from({ length: 1 + (i % 6) }, (_, j) => ({ title: `w${n} r${i} ${j} alpha${(i * 31 + j) % 97}`, uri: null, dateMs: Date.UTC(2022, 0, 1), dateRaw: 'x' }));
          await store.inTransaction((tx) => tx.insert(records));
          writes += 1;
        }
      };
      const merger = async ({ compactor }: (typeof replicas)[number]) => {
        while (Date.now() < until) {
          const { batches } = await compactor.compact();
          merged += batches;
        }
      };
      await Promise.all([...[0, 1, 2, 3].map(writer), ...replicas.map(merger)]);
      const db = pools[0] as Database;
      expect(writes).to.be.greaterThan(20);
      expect(merged, 'merges ran').to.be.greaterThan(0);
      expect(await storedPostings(db.knex)).to.deep.equal(await expectedPostings(db.knex));
    });
  });
}
