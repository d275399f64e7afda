import { expect } from 'chai';
import pino from 'pino';
import { createIdempotencyStore } from '../../service/src/api/data/idempotency-store.js';
import { createPreparerPool, READ_ON_WORKER_FROM_BYTES } from '../../service/src/api/data/preparer-pool.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createSearchIndex } from '../../service/src/api/data/search-index.js';
import { IdempotencyKeyReused, Unavailable, UnprocessableItems } from '../../service/src/api/domain/errors.js';
import { createRecordsService } from '../../service/src/api/domain/records-service.js';
import { ENGINES, migratedDatabaseForSuite, withInsertRefused } from '../support/databases.js';
import { buildItem, uniqueTag } from '../support/factories.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';
import { expectProblem } from './records-api-helpers.js';

const documentOf = (items: unknown[]) => Buffer.from(JSON.stringify({ items }));
/** An NDJSON body of `items`, in chunks of `chunkBytes` (50: lines cut across chunks). */
async function* ndjsonOf(items: unknown[], chunkBytes = 50): AsyncGenerator<Uint8Array> {
  const body = Buffer.from(items.map((each) => `${JSON.stringify(each)}\n`).join(''));
  for (let at = 0; at < body.length; at += chunkBytes) yield body.subarray(at, at + chunkBytes);
}
const streamOptions = { atomic: false, idempotency: null, maxLineBytes: 1_024, declaredBytes: null };
const item = (title: string, date = '2021-03-04T05:06:07Z') => ({ title, uri: `https://example.com/${encodeURIComponent(title)}`, date });

/**
 * Bulk JSON documents and NDJSON streams are read on the service's worker threads, and their accepted records stay
 * there until the write transaction inserts them (data/preparer-pool.ts): stored exactly, indexed,
 * and released by every way a write ends.
 */
for (const engine of ENGINES) {
  describe(`records held on a worker thread, written on ${engine}`, function () {
    this.timeout(60_000);
    const suite = migratedDatabaseForSuite(engine);
    let pool: ReturnType<typeof createPreparerPool>;
    let records: ReturnType<typeof createRecordsService>;
    before(async () => {
      pool = createPreparerPool({ size: 2, logger: pino({ level: 'silent' }), readOnWorkerFrom: 0 });
      await pool.ready;
      const { db } = suite;
      records = createRecordsService({
        // Three records per INSERT: a document of seven is written in three parts.
        store: createRecordsStore({ db, batchSize: 3, preparers: pool }),
        index: createSearchIndex({ db, timeLimitMs: 10_000 }),
        idempotency: createIdempotencyStore({ db }),
        reader: pool,
        streamBatchSize: 3,
      });
    });
    after(() => pool.close());

    it('stores and indexes what the worker accepted, in order, and releases it', async () => {
      const titles = ['Crème brûlée', 'zebra one', 'zebra two', 'other', 'zebra three', 'last', 'zebra four'];
      const outcome = await records.storeItems(documentOf([...titles.map((title) => item(title)), item('rejected', 'May 23')]), { atomic: false, idempotency: null });
      expect(outcome.value.inserted).to.equal(7);
      expect(outcome.value.rejected).to.deep.equal([{ index: 7, field: 'date', message: 'date has no year' }]);
      const stored = await Promise.all(outcome.value.ids.map((id) => records.findRecord(id)));
      expect(stored.map((record) => record?.title)).to.deep.equal(titles);
      expect(stored[0]).to.deep.include({ uri: 'https://example.com/Cr%C3%A8me%20br%C3%BBl%C3%A9e', dateMs: Date.parse('2021-03-04T05:06:07Z'), dateRaw: '2021-03-04T05:06:07Z' });
      const page = await records.search({ after: null, before: null, contains: 'zebra', uri: null, limit: 10, cursor: null });
      expect(page.records.map((record) => record.title).sort()).to.deep.equal(['zebra four', 'zebra one', 'zebra three', 'zebra two']);
      expect(await pool.held()).to.equal(0);
    });

    it('stores and indexes a stream read on the worker, batch by batch, in line order, and releases every batch', async () => {
      const titles = ['stream zebra one', 'stream two', 'stream zebra three', 'stream four', 'stream zebra five', 'stream six', 'stream seven'];
      const lines = [...titles.slice(0, 4).map((title) => item(title)), item('rejected', 'May 23'), ...titles.slice(4).map((title) => item(title))];
      const outcome = await records.storeStream(ndjsonOf(lines), streamOptions);
      expect(outcome.value.inserted).to.equal(7);
      expect(outcome.value.rejected).to.deep.equal([{ line: 5, field: 'date', message: 'date has no year' }]);
      const ids = outcome.value.idRanges.flatMap(([first, last]) => Array.from({ length: last - first + 1 }, (_, n) => first + n));
      const stored = await Promise.all(ids.map((id) => records.findRecord(id)));
      expect(stored.map((record) => record?.title)).to.deep.equal(titles);
      const page = await records.search({ after: null, before: null, contains: 'stream zebra', uri: null, limit: 10, cursor: null });
      expect(page.records.map((record) => record.title).sort()).to.deep.equal(['stream zebra five', 'stream zebra one', 'stream zebra three']);
      expect(await pool.held(), 'every batch released, the stream closed').to.equal(0);
    });

    it('releases a stream\'s batches when nothing is kept: an atomic refusal, a database refusal midway', async () => {
      const atomicLines = [item('atomic one'), item('atomic two'), item('atomic three'), item('atomic four'), item('bad', '')];
      const refused = await records.storeStream(ndjsonOf(atomicLines), { ...streamOptions, atomic: true }).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(UnprocessableItems);
      // In one chunk, a full batch and the rejection after it come back together: the batch is skipped, and released.
      const inOneChunk = await records.storeStream(ndjsonOf(atomicLines, 4_096), { ...streamOptions, atomic: true }).catch((error: unknown) => error);
      expect(inOneChunk).to.be.instanceOf(UnprocessableItems);
      const refusal = 'stream refused by the database';
      await withInsertRefused(suite.db.knex, engine, refusal, async () => {
        const failed = await records.storeStream(ndjsonOf(['midway one', 'midway two', 'midway three', refusal, 'midway five'].map((title) => item(title))), streamOptions).then(() => null, (error: unknown) => error);
        expect(failed).to.be.instanceOf(Unavailable);
        expect(((failed as Unavailable).cause as Error).message).to.contain('simulated failure');
      });
      for (const contains of ['atomic', 'midway']) {
        const search = await records.search({ after: null, before: null, contains, uri: null, limit: 10, cursor: null });
        expect(search.records, `${contains}: nothing kept`).to.deep.equal([]);
      }
      expect(await pool.held()).to.equal(0);
    });

    it('releases them when nothing is written: an atomic refusal, a replay, a reused key', async () => {
      const refused = await records.storeItems(documentOf([item('kept back'), item('bad', '')]), { atomic: true, idempotency: null }).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(UnprocessableItems);
      const key = (hash: string) => ({ scope: 'caller', key: `held-${engine}`, digest: Promise.resolve(hash), ttlMs: 60_000 });
      const first = await records.storeItems(documentOf([item('once')]), { atomic: false, idempotency: key('h1') });
      const replay = await records.storeItems(documentOf([item('once')]), { atomic: false, idempotency: key('h1') });
      expect(replay).to.deep.equal({ value: first.value, replayed: true });
      const reused = await records.storeItems(documentOf([item('other body')]), { atomic: false, idempotency: key('h2') }).catch((error: unknown) => error);
      expect(reused).to.be.instanceOf(IdempotencyKeyReused);
      const search = await records.search({ after: null, before: null, contains: 'kept back', uri: null, limit: 10, cursor: null });
      expect(search.records, 'an atomic refusal stored nothing').to.deep.equal([]);
      expect(await pool.held()).to.equal(0);
    });

    it('releases them, and keeps none, when the database refuses a part after another was inserted', async () => {
      const refused = 'refused by the database';
      await withInsertRefused(suite.db.knex, engine, refused, async () => {
        // Three records per INSERT: the first part is inserted, the second refused.
        const titles = ['halfway one', 'halfway two', 'halfway three', 'halfway four', refused, 'halfway six'];
        const failed = await records.storeItems(documentOf(titles.map((title) => item(title))), { atomic: false, idempotency: null }).then(() => null, (error: unknown) => error);
        expect(failed).to.be.instanceOf(Error);
        const search = await records.search({ after: null, before: null, contains: 'halfway', uri: null, limit: 10, cursor: null });
        expect(search.records, 'the part inserted before the refusal was rolled back').to.deep.equal([]);
        expect(await pool.held()).to.equal(0);
      });
    });
  });

  describe(`POST /v1/bulk of a large document, through the service on ${engine}`, function () {
    this.timeout(60_000);
    let app: TestApp;
    before(async () => {
      app = await startTestApp(engine);
    });
    after(() => app?.close());

    it('stores a large document (read and held on a write worker) exactly, ids in order, or refuses it whole', async function () {
      const tag = uniqueTag();
      // 3,000 items of about 110 bytes; every seventh has no year.
      const items = Array.from({ length: 3_000 }, (_, n) => buildItem({ title: `${tag} #${n} ${'x'.repeat(40)}`, date: n % 7 === 3 ? 'May 23' : '2012-02-03' }));
      const body = JSON.stringify({ items });
      expect(body.length).to.be.at.least(READ_ON_WORKER_FROM_BYTES);
      const response = await postJson(app.baseUrl, '/v1/bulk', body);
      expect(response.status).to.equal(200);
      const kept = items.map((item, n) => [item, n] as const).filter(([, n]) => n % 7 !== 3);
      expect(response.body.inserted).to.equal(kept.length);
      expect(response.body.rejected.map((r: { index: number }) => r.index)).to.deep.equal(items.map((_, n) => n).filter((n) => n % 7 === 3));
      expect(await app.countTagged(tag)).to.equal(kept.length);
      for (const at of [0, 1, 1_000, kept.length - 1]) {
        const stored = await request(app.baseUrl, `/v1/${response.body.ids[at]}`);
        expect(stored.body.title, `the ${at}th stored item`).to.equal(kept[at]![0].title);
      }
      // The same document cut short: refused whole by the worker, as the event loop refuses a small one.
      const cut = await postJson(app.baseUrl, '/v1/bulk', body.slice(0, -2));
      expectProblem(cut, 400);
      expect(cut.body.errors).to.deep.equal([{ pointer: '#', detail: 'malformed JSON' }]);
    });
  });
}
