import { expect } from 'chai';
import knex from 'knex';
import { ENGINES } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { postNdjsonStream } from '../../tooling/ndjson-stream.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';
import { POSTING_GROUP } from '../../service/src/api/data/index-writer.js';

/**
 * atomic=true keeps nothing of a failed load even after batches were written inside its
 * transaction: INSERT_BATCH_SIZE=1 makes every valid line an INSERT before the line that fails it.
 */
for (const engine of ENGINES) {
  describe(`atomic=true rolls back written batches on ${engine}`, function () {
    let app: TestApp;
    before(async () => {
      // At one record per INSERT, a 1 GiB stream's id ranges could outgrow the packet: start-up refuses it.
      app = await startTestApp(engine, { INSERT_BATCH_SIZE: '1', NDJSON_BODY_LIMIT: '4MiB' });
    });
    after(async () => app?.close());

    it('stores nothing when an invalid line follows two written ones', async function () {
      const tag = uniqueTag();
      const lines = [
        JSON.stringify({ title: `${tag} a`, date: '2020-01-01' }),
        JSON.stringify({ title: `${tag} b`, date: '2020-01-02' }),
        JSON.stringify({ title: `${tag} c`, date: 'not a date' }),
      ];
      const response = await postNdjsonStream(app.baseUrl, [lines.join('\n')], '?atomic=true');
      expect(response.status).to.equal(422);
      expect(((await response.json()) as { rejected: Array<{ line: number }> }).rejected.map((r) => r.line)).to.deep.equal([3]);
      expect(await app.countTagged(tag)).to.equal(0);
      expect(await app.orphanPostings(), 'index entries of rolled-back records').to.deep.equal([]);
    });

    if (engine === 'mysql') {
      it('stores nothing when the database fails mid-request, after batches were written', async function () {
        const tag = uniqueTag();
        const admin = knex({ client: 'mysql2', connection: app.database.url, pool: { min: 0, max: 1 } });
        let release: () => void = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        async function* body() {
          yield `${JSON.stringify({ title: `${tag} a`, date: '2020-01-01' })}\n${JSON.stringify({ title: `${tag} b`, date: '2020-01-02' })}\n`;
          await held; // the request stays open, its transaction holding two written rows
          yield `${JSON.stringify({ title: `${tag} c`, date: '2020-01-03' })}\n`;
        }
        try {
          const pending = postNdjsonStream(app.baseUrl, body(), '?atomic=true');
          // The load's transaction, once both rows are written: then the database drops its connection.
          let thread: number | undefined;
          await waitFor('the load to write two rows', async () => {
            const [rows] = (await admin.raw('select trx_mysql_thread_id as id from information_schema.innodb_trx where trx_rows_modified >= 2')) as [Array<{ id: number }>];
            thread = rows[0]?.id;
            return thread !== undefined;
          });
          await admin.raw('KILL CONNECTION ?', [thread as number]);
          release();
          const response = await pending;
          expect(response.status).to.equal(503);
          expect(((await response.json()) as { type: string }).type).to.equal('/problems/unavailable');
          expect(await app.countTagged(tag)).to.equal(0);
          expect(await app.orphanPostings(), 'index entries of rolled-back records').to.deep.equal([]);
        } finally {
          release();
          await admin.destroy();
        }
      });
    }
  });

  describe(`atomic=true rolls back written index groups on ${engine}`, function () {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(engine);
    });
    after(async () => app?.close());

    it('keeps no posting rows when the failing line comes after a whole posting group was written', async function () {
      this.timeout(60_000);
      const tag = uniqueTag();
      // One more than a posting group (data/search-index.ts), so its rows are inserted before line 8194 fails the load.
      const lines = Array.from({ length: POSTING_GROUP + 1 }, (_, i) => JSON.stringify({ title: `${tag} n${i}`, date: '2020-01-01' }));
      lines.push(JSON.stringify({ title: `${tag} bad`, date: 'not a date' }));
      const response = await postNdjsonStream(app.baseUrl, [lines.join('\n')], '?atomic=true');
      expect(response.status).to.equal(422);
      expect(await app.countTagged(tag)).to.equal(0);
      expect(await app.orphanPostings(), 'index entries of rolled-back records').to.deep.equal([]);
      // The same lines without the bad one are found through the index.
      const stored = await postNdjsonStream(app.baseUrl, [lines.slice(0, -1).join('\n')], '?atomic=true');
      expect(stored.status).to.equal(200);
      const found = await fetch(`${app.baseUrl}/v1/?contains=${encodeURIComponent(`${tag} n8192`)}`);
      expect(((await found.json()) as { items: Array<{ title: string }> }).items.map((item) => item.title)).to.deep.equal([`${tag} n8192`]);
    });
  });
}
