import { expect } from 'chai';
import pino from 'pino';
import { createPreparerPool } from '../../service/src/api/data/preparer-pool.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { Unavailable } from '../../service/src/api/domain/errors.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';

/** A write whose preparing worker dies: Unavailable (a 503), and nothing of it stored or indexed. */
for (const engine of ENGINES) {
  describe(`a write preparer worker that dies mid-write on ${engine}`, function () {
    this.timeout(60_000);
    const suite = migratedDatabaseForSuite(engine);

    it('fails the write as Unavailable and rolls back what it had written', async function () {
      const preparers = createPreparerPool({ size: 1, logger: pino({ level: 'silent' }), workerUrl: new URL('../support/exiting-preparer-worker.ts', import.meta.url) });
      await preparers.ready;
      const { db } = suite;
      const store = createRecordsStore({ db, batchSize: 100, preparers });
      try {
        const written = store.inTransaction(async (tx) => {
          // Written before the worker is asked anything: the transaction really holds a row to roll back.
          await tx.remember({ scope: 'test', key: 'preparer-failure', requestHash: 'h', response: '{}', expiresAtMs: Date.now() + 60_000 }, Date.now());
          return tx.insert([{ title: 'never stored', uri: null, dateMs: 0, dateRaw: '1970-01-01' }]);
        });
        await written.then(
          () => expect.fail('a write whose worker died succeeded'),
          (error: unknown) => expect(error).to.be.instanceOf(Unavailable),
        );
        for (const table of ['records', 'title_postings', 'idempotency_keys']) {
          const [row] = await db.knex(table).count({ n: '*' });
          expect(Number(row?.n), table).to.equal(0);
        }
      } finally {
        await preparers.close();
      }
    });
  });
}
