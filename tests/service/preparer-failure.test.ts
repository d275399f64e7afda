import { expect } from 'chai';
import pino from 'pino';
import { createPreparerPool } from '../../service/src/api/data/preparer-pool.js';
import { createIdempotencyStore } from '../../service/src/api/data/idempotency-store.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createSearchIndex } from '../../service/src/api/data/search-index.js';
import { Unavailable } from '../../service/src/api/domain/errors.js';
import { createRecordsService } from '../../service/src/api/domain/records-service.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';

/** Rows of the tables a write touches. */
async function countRows(db: { knex: import('knex').Knex }): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['records', 'title_postings', 'idempotency_keys']) {
    const [row] = await db.knex(table).count({ n: '*' });
    counts[table] = Number(row?.n);
  }
  return counts;
}

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
        expect(await countRows(db)).to.deep.equal({ records: 0, title_postings: 0, idempotency_keys: 0 });
      } finally {
        await preparers.close();
      }
    });

    it('fails a stream as Unavailable when its worker dies after a batch was inserted, and rolls that batch back', async function () {
      const preparers = createPreparerPool({ size: 1, logger: pino({ level: 'silent' }), workerUrl: new URL('../support/dying-on-second-chunk-worker.ts', import.meta.url) });
      await preparers.ready;
      const { db } = suite;
      const records = createRecordsService({
        store: createRecordsStore({ db, batchSize: 2, preparers }),
        index: createSearchIndex({ db, timeLimitMs: 10_000 }),
        idempotency: createIdempotencyStore({ db }),
        reader: preparers,
        streamBatchSize: 2,
      });
      const line = (n: number) => `${JSON.stringify({ title: `streamed ${n}`, date: '2020-01-02' })}\n`;
      // The first chunk fills a batch of two, inserted before the second chunk is read.
      async function* chunks() {
        yield Buffer.from(`${line(1)}${line(2)}${line(3)}`);
        yield Buffer.from(line(4));
      }
      try {
        const key = { scope: 'test', key: 'stream-worker-death', digest: Promise.resolve('h'), ttlMs: 60_000 };
        const failed = await records.storeStream(chunks(), { atomic: false, idempotency: key, maxLineBytes: 1_024, declaredBytes: null }).then(() => null, (error: unknown) => error);
        expect(failed).to.be.instanceOf(Unavailable);
        expect(((failed as Unavailable).cause as Error).message).to.match(/exited \(3\)/);
        expect(await countRows(db)).to.deep.equal({ records: 0, title_postings: 0, idempotency_keys: 0 });
      } finally {
        await preparers.close();
      }
    });
  });
}
