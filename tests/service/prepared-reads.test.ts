import { expect } from 'chai';
import { uniqueTag } from '../support/factories.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Reads by id are sent as a server-side prepared statement on MariaDB (parsed once per
 * connection, not per request); searches, whose SQL carries a time limit that varies per call,
 * never are. Counted with the server's own statement counters (global: nothing else runs
 * against the test MariaDB while a suite runs).
 */
describe('reads by id as prepared statements (MariaDB)', function () {
  let app: TestApp;
  const counters = async () => {
    const [rows] = (await app.runtime.db.knex.raw("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_execute')")) as [Array<{ Variable_name: string; Value: string }>];
    const value = (name: string) => Number(rows.find((row) => row.Variable_name === name)?.Value);
    return { prepared: value('Com_stmt_prepare'), executed: value('Com_stmt_execute') };
  };

  before(async () => {
    app = await startTestApp('mysql');
  });
  after(async () => app?.close());

  it('prepares the read once per connection and executes it per request, with the same answers', async function () {
    const tag = uniqueTag();
    const items = Array.from({ length: 20 }, (_, i) => ({ title: `${tag} ${i}`, uri: `https://example.org/${tag}/${i}`, date: '2021-02-03' }));
    const { body } = await postJson(app.baseUrl, '/v1/bulk', { items });
    const ids = body.ids as number[];
    const before = await counters();
    for (const [i, id] of ids.entries()) {
      const response = await request(app.baseUrl, `/v1/${id}`);
      expect(response.status).to.equal(200);
      expect(response.body).to.include({ id, title: `${tag} ${i}`, uri: `https://example.org/${tag}/${i}` });
    }
    expect((await request(app.baseUrl, `/v1/${ids.at(-1)! + 1000}`)).status).to.equal(404);
    const after = await counters();
    expect(after.executed - before.executed, 'one execution per read').to.equal(ids.length + 1);
    // Sequential reads reuse a pooled connection: prepared at most once per connection.
    expect(after.prepared - before.prepared).to.be.within(1, 2);
  });

  it('never prepares a search (its time limit makes each statement unique)', async function () {
    const before = await counters();
    const response = await request(app.baseUrl, `/v1/?contains=${encodeURIComponent(uniqueTag())}`);
    expect(response.status).to.equal(200);
    const after = await counters();
    expect(after).to.deep.equal(before);
  });
});
