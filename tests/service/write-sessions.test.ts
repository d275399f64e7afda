import { expect } from 'chai';
import { inlinePreparers, type Preparers } from '../../service/src/api/data/preparers.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';

/**
 * A write transaction opens a preparer session (on a worker thread in the service) only once it
 * writes records: one that only remembers an Idempotency-Key's response, or stores nothing, asks
 * no worker for anything.
 */
for (const engine of ENGINES) {
  describe(`preparer sessions of write transactions on ${engine}`, function () {
    const suite = migratedDatabaseForSuite(engine);

    it('are opened by the first insert, once per transaction, and never for a transaction that inserts nothing', async function () {
      const inline = inlinePreparers();
      let opened = 0;
      const preparers: Preparers = { ...inline, open: (options) => ((opened += 1), inline.open(options)) };
      const store = createRecordsStore({ db: suite.db, batchSize: 2, preparers });
      const remembered = await store.inTransaction(async (tx) => {
        await tx.remember({ scope: 'test', key: `sessions-${engine}`, requestHash: 'h', response: '{}', expiresAtMs: Date.now() + 60_000 }, Date.now());
        return 'remembered';
      });
      expect(remembered).to.equal('remembered');
      expect(await store.inTransaction(async () => 'nothing')).to.equal('nothing');
      expect(opened, 'transactions that insert nothing').to.equal(0);

      const record = (title: string) => ({ title, uri: null, dateMs: 0, dateRaw: '1970-01-01' });
      const ids = await store.inTransaction(async (tx) => [...(await tx.insert([record('a'), record('b'), record('c')])), ...(await tx.insert([record('d')]))]);
      expect(ids).to.have.length(4);
      expect(opened, 'one session for a transaction of several batches and inserts').to.equal(1);
      expect((await store.findById(ids[3]!))?.title).to.equal('d');
    });
  });
}
