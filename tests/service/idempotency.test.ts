import { expect } from 'chai';
import { purgeExpiredKeys } from '../../service/src/api/data/key-purge.js';
import { ENGINES } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';

function post(app: TestApp, body: unknown, headers: Record<string, string> = {}, type = 'application/json') {
  return request(app.baseUrl, '/v1/bulk', {
    method: 'POST',
    headers: { 'content-type': type, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

for (const engine of ENGINES) {
  describe(`Idempotency-Key on ${engine}`, function () {
    let app: TestApp;
    // The clock keys expire by: real time, moved forward by a test instead of waited for.
    let skippedMs = 0;
    const clock = { now: () => Date.now() + skippedMs };
    before(async () => {
      app = await startTestApp(engine, { IDEMPOTENCY_TTL_SECONDS: '2' }, undefined, clock);
    });
    after(async () => app?.close());
    const stored = (tag: string) => app.countTagged(tag);

    it('replays the original response for a retry and stores nothing new', async function () {
      const tag = uniqueTag();
      const body = { items: [{ title: `${tag} a`, date: '2020-01-01' }, { title: `${tag} b`, date: 'May 23' }] };
      const first = await post(app, body, { 'idempotency-key': `k-${tag}` });
      const retry = await post(app, body, { 'idempotency-key': `k-${tag}` });
      expect(first.status).to.equal(200);
      expect(retry.status).to.equal(200);
      expect(retry.body).to.deep.equal(first.body);
      expect(retry.headers.get('idempotent-replayed')).to.equal('true');
      expect(first.headers.get('idempotent-replayed')).to.equal(null);
      expect(await stored(tag)).to.equal(1);
    });

    it('answers 422 for the same key with a different body, storing nothing', async function () {
      const tag = uniqueTag();
      await post(app, { items: [{ title: `${tag} a`, date: '2020-01-01' }] }, { 'idempotency-key': `k-${tag}` });
      const other = await post(app, { items: [{ title: `${tag} other`, date: '2020-01-01' }] }, { 'idempotency-key': `k-${tag}` });
      expect(other.status).to.equal(422);
      expect(other.body.type).to.equal('/problems/idempotency-key-reused');
      const atomicToo = await post(app, '{"items": [{"title": "' + tag + ' a", "date": "2020-01-01"}]}', { 'idempotency-key': `k-${tag}` });
      expect(atomicToo.status, 'different bytes are a different request').to.equal(422);
      expect(await stored(tag)).to.equal(1);
    });

    it('answers a key reused with atomic=true as a reused key, for JSON and NDJSON alike, even when the items would fail the atomic check (JSON answered unprocessable-items)', async function () {
      for (const type of ['application/json', 'application/x-ndjson']) {
        const tag = uniqueTag();
        const items = [{ title: `${tag} kept`, date: '2020-01-01' }, { title: `${tag} no year`, date: 'May 23' }];
        const body = type === 'application/json' ? JSON.stringify({ items }) : items.map((item) => `${JSON.stringify(item)}\n`).join('');
        const headers = { 'content-type': type, 'idempotency-key': `k-${tag}` };
        const first = await request(app.baseUrl, '/v1/bulk', { method: 'POST', headers, body });
        expect(first.status, type).to.equal(200);
        const atomic = await request(app.baseUrl, '/v1/bulk?atomic=true', { method: 'POST', headers, body });
        expect(atomic.status, type).to.equal(422);
        expect(atomic.body.type, type).to.equal('/problems/idempotency-key-reused');
        expect(await stored(tag), type).to.equal(1);
      }
    });

    it('stores once when concurrent requests share a key', async function () {
      const tag = uniqueTag();
      const body = { items: [{ title: `${tag} once`, date: '2020-01-01' }] };
      const responses = await Promise.all(Array.from({ length: 8 }, () => post(app, body, { 'idempotency-key': `k-${tag}` })));
      expect(responses.map((response) => response.status)).to.deep.equal(Array(8).fill(200));
      const ids = new Set(responses.map((response) => JSON.stringify(response.body.ids)));
      expect(ids.size).to.equal(1);
      expect(await stored(tag)).to.equal(1);
    });

    it('works for NDJSON streams too', async function () {
      const tag = uniqueTag();
      const body = `${JSON.stringify({ title: `${tag} x`, date: '2020-01-01' })}\n${JSON.stringify({ title: `${tag} y`, date: '2020-01-02' })}\n`;
      const first = await post(app, body, { 'idempotency-key': `k-${tag}` }, 'application/x-ndjson');
      const retry = await post(app, body, { 'idempotency-key': `k-${tag}` }, 'application/x-ndjson');
      expect(retry.body).to.deep.equal(first.body);
      expect(retry.headers.get('idempotent-replayed')).to.equal('true');
      const changed = await post(app, body.replace(' y', ' z'), { 'idempotency-key': `k-${tag}` }, 'application/x-ndjson');
      expect(changed.status).to.equal(422);
      expect(await stored(tag)).to.equal(2);
    });

    it('forgets keys after their time to live', async function () {
      const tag = uniqueTag();
      const body = { items: [{ title: `${tag} t`, date: '2020-01-01' }] };
      await post(app, body, { 'idempotency-key': `k-${tag}` });
      skippedMs += 1900;
      const within = await post(app, body, { 'idempotency-key': `k-${tag}` });
      expect(within.headers.get('idempotent-replayed'), 'replayed within the TTL').to.equal('true');
      skippedMs += 200;
      const later = await post(app, body, { 'idempotency-key': `k-${tag}` });
      expect(later.headers.get('idempotent-replayed')).to.equal(null);
      expect(await stored(tag)).to.equal(2);
    });

    it('stores once, and replays to every other, when concurrent requests reuse an expired key', async function () {
      // Each takes the expired row over with an UPDATE; on InnoDB the losers deadlock on it and must
      // then wait for the winner's commit to replay it (they answered 409 before).
      const tag = uniqueTag();
      const body = { items: [{ title: `${tag} again`, date: '2020-01-01' }] };
      await post(app, body, { 'idempotency-key': `k-${tag}` });
      skippedMs += 2100;
      for (let round = 0; round < 3; round += 1) {
        const responses = await Promise.all(Array.from({ length: 8 }, () => post(app, body, { 'idempotency-key': `k-${tag}` })));
        expect(responses.map((response) => response.status), JSON.stringify(responses.map((response) => response.body))).to.deep.equal(Array(8).fill(200));
        expect(new Set(responses.map((response) => JSON.stringify(response.body.ids))).size).to.equal(1);
        expect(responses.filter((response) => response.headers.get('idempotent-replayed') === null)).to.have.length(1);
        expect(await stored(tag)).to.equal(2 + round);
        skippedMs += 2100;
      }
    });

    it('deletes expired keys in the background pass, and a retry after that writes anew', async function () {
      const tag = uniqueTag();
      const body = { items: [{ title: `${tag} purged`, date: '2020-01-01' }] };
      const rows = (key: string) => app.runtime.db.knex('idempotency_keys').where('idempotency_key', key).count({ n: '*' }).then(([row]) => Number(row?.n));
      await post(app, body, { 'idempotency-key': `old-${tag}` });
      skippedMs += 2100;
      await post(app, body, { 'idempotency-key': `new-${tag}` });
      expect(await purgeExpiredKeys(app.runtime.db, clock.now())).to.be.at.least(1);
      expect(await rows(`old-${tag}`), 'expired').to.equal(0);
      expect(await rows(`new-${tag}`), 'within its time to live').to.equal(1);
      const again = await post(app, body, { 'idempotency-key': `old-${tag}` });
      expect(again.status).to.equal(200);
      expect(again.headers.get('idempotent-replayed')).to.equal(null);
      expect((await post(app, body, { 'idempotency-key': `old-${tag}` })).headers.get('idempotent-replayed')).to.equal('true');
      expect(await stored(tag)).to.equal(3);
    });

    it('remembers a response that names a long unknown field, so a retry replays it', async function () {
      // Five million quotes: a 10 MB body, echoed whole in `rejected[].field` before the fix, which
      // SQL escaping doubled past MariaDB's 16 MiB packet: 503 on every retry with a key, 200 without.
      const tag = uniqueTag();
      const body = `{"items": [{"title": "${tag} kept", "date": "2020-01-01"}, {"${'\\"'.repeat(5_000_000)}": 1, "date": "2020-01-01"}]}`;
      const first = await post(app, body, { 'idempotency-key': `k-${tag}` });
      expect(first.status, JSON.stringify(first.body).slice(0, 300)).to.equal(200);
      expect(first.body.rejected).to.have.length(1);
      expect([...first.body.rejected[0].field]).to.have.length(65);
      expect(first.body.rejected[0].field).to.equal(`${'"'.repeat(64)}…`);
      const retry = await post(app, body, { 'idempotency-key': `k-${tag}` });
      expect(retry.headers.get('idempotent-replayed')).to.equal('true');
      expect(await stored(tag)).to.equal(1);
    });

    it('rejects a malformed key with 400 naming the header', async function () {
      // An empty header is a key the client meant to send, not the absence of one.
      for (const key of ['has spaces in it', '']) {
        const response = await post(app, { items: [] }, { 'idempotency-key': key });
        expect(response.status, JSON.stringify(key)).to.equal(400);
        expect(response.body.errors).to.deep.equal([
          { parameter: 'Idempotency-Key', detail: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' },
        ]);
      }
    });
  });
}

describe('Idempotency-Key scope', function () {
  const idp = new JwksServer();
  let app: TestApp;
  before(async () => {
    idp.keys = [generateTestKey('ES256')];
    await idp.start();
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]) });
  });
  after(async () => {
    await app?.close();
    await idp.stop();
  });

  it('is per authenticated subject: another caller with the same key gets its own write', async function () {
    const body = { items: [{ title: 'scoped', date: '2020-01-01' }] };
    const alice = await post(app, body, { 'idempotency-key': 'shared-key', authorization: `Bearer ${idp.sign({ sub: 'alice' })}` });
    const bob = await post(app, body, { 'idempotency-key': 'shared-key', authorization: `Bearer ${idp.sign({ sub: 'bob' })}` });
    expect(alice.status).to.equal(200);
    expect(bob.status).to.equal(200);
    expect(bob.headers.get('idempotent-replayed')).to.equal(null);
    expect(bob.body.ids).not.to.deep.equal(alice.body.ids);
  });
});
