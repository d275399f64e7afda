import { expect } from 'chai';
import { uniqueTag } from '../support/factories.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';

function redisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests through `make test` (scripts/with-test-servers)');
  return url;
}

/** Counts the SQL statements the app sends that read the records table. */
function countRecordQueries(app: TestApp): { readonly count: number; stop(): void } {
  let count = 0;
  const listener = (query: { sql: string }) => {
    if (/^select/i.test(query.sql) && /records/.test(query.sql)) count += 1;
  };
  app.runtime.db.knex.on('query', listener);
  return {
    get count() {
      return count;
    },
    stop: () => app.runtime.db.knex.removeListener('query', listener),
  };
}

const stores = [
  { name: 'Redis', env: () => ({ REDIS_URL: redisUrl(), CACHE_KEY_PREFIX: `${uniqueTag('k')}:` }) },
  { name: 'the in-memory LRU', env: () => ({}) },
];

for (const store of stores) {
  describe(`read cache with ${store.name} (MariaDB)`, function () {
    let app: TestApp;
    before(async () => {
      app = await startTestApp('mysql', store.env());
    });
    after(async () => app?.close());

    it('serves a record from the cache after the first miss', async function () {
      const created = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: 'cached', date: '2020-01-01' }] });
      const id = created.body.ids[0];
      const first = await request(app.baseUrl, `/v1/${id}`);
      const second = await request(app.baseUrl, `/v1/${id}`);
      expect(first.headers.get('x-cache')).to.equal('miss');
      expect(second.headers.get('x-cache')).to.equal('hit');
      expect(second.body).to.deep.equal(first.body);
    });

    it('lets equivalent searches share one entry', async function () {
      const tag = uniqueTag();
      await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `Tranquilité ${tag}`, date: '2020-06-01' }] });
      const first = await request(app.baseUrl, `/v1/?contains=tranquilite%20${tag}&after=2020-01-01&limit=100`);
      expect(first.headers.get('x-cache')).to.equal('miss');
      expect(first.body.items).to.have.length(1);
      for (const equivalent of [
        `/v1/?after=2020-01-01&contains=TRANQUILITÉ%20${tag.toUpperCase()}`,
        `/v1/?contains=Tranquilite%20${tag}&after=2020-01-01T00:00:00Z`,
        `/v1/?limit=100&after=2020-01-01T01:00%2B01:00&contains=tranquilite%20${tag}`,
      ]) {
        const response = await request(app.baseUrl, equivalent);
        expect(response.headers.get('x-cache'), equivalent).to.equal('hit');
        expect(response.body).to.deep.equal(first.body);
      }
    });

    it('includes records written after a search was cached', async function () {
      const tag = uniqueTag();
      await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} one`, date: '2020-01-01' }] });
      await request(app.baseUrl, `/v1/?contains=${tag}`);
      expect((await request(app.baseUrl, `/v1/?contains=${tag}`)).headers.get('x-cache')).to.equal('hit');
      await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} two`, date: '2021-01-01' }] });
      const after = await request(app.baseUrl, `/v1/?contains=${tag}`);
      expect(after.headers.get('x-cache')).to.equal('miss');
      expect(after.body.items.map((item: { title: string }) => item.title)).to.deep.equal([`${tag} one`, `${tag} two`]);
    });

    it('does not let a cached 404 hide a record inserted later', async function () {
      const created = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: 'probe', date: '2020-01-01' }] });
      const nextId = created.body.ids[0] + 1;
      expect((await request(app.baseUrl, `/v1/${nextId}`)).status).to.equal(404);
      const cached404 = await request(app.baseUrl, `/v1/${nextId}`);
      expect(cached404.status).to.equal(404);
      expect(cached404.headers.get('x-cache')).to.equal('hit');
      const inserted = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: 'late arrival', date: '2020-01-01' }] });
      expect(inserted.body.ids).to.deep.equal([nextId]);
      const found = await request(app.baseUrl, `/v1/${nextId}`);
      expect(found.status).to.equal(200);
      expect(found.body.title).to.equal('late arrival');
    });

    it('runs the database query once for concurrent identical misses', async function () {
      const tag = uniqueTag();
      await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} coalesced`, date: '2020-01-01' }] });
      const queries = countRecordQueries(app);
      try {
        const responses = await Promise.all(Array.from({ length: 20 }, () => request(app.baseUrl, `/v1/?contains=${tag}`)));
        expect(responses.map((r) => r.status)).to.deep.equal(Array(20).fill(200));
        expect(responses.every((r) => r.body.items.length === 1)).to.equal(true);
        expect(queries.count).to.equal(1);
      } finally {
        queries.stop();
      }
    });
  });
}

describe('read cache shared by two instances through Redis', function () {
  let first: TestApp;
  let second: TestApp;
  before(async () => {
    const env = { REDIS_URL: redisUrl(), CACHE_KEY_PREFIX: `${uniqueTag('k')}:` };
    first = await startTestApp('mysql', env);
    second = await startTestApp('mysql', env, first.database);
  });
  after(async () => {
    await second?.close();
    await first?.close();
  });

  it('shows records written through one instance in the next search on the other', async function () {
    const tag = uniqueTag();
    await postJson(first.baseUrl, '/v1/bulk', { items: [{ title: `${tag} a`, date: '2020-01-01' }] });
    await request(first.baseUrl, `/v1/?contains=${tag}`);
    const shared = await request(second.baseUrl, `/v1/?contains=${tag}`);
    expect(shared.headers.get('x-cache'), 'second instance reads the first one\'s entry').to.equal('hit');

    await postJson(second.baseUrl, '/v1/bulk', { items: [{ title: `${tag} b`, date: '2020-02-01' }] });
    const seen = await request(first.baseUrl, `/v1/?contains=${tag}`);
    expect(seen.body.items.map((item: { title: string }) => item.title)).to.deep.equal([`${tag} a`, `${tag} b`]);
  });
});

describe('read cache switched off', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite', { CACHE: 'off' });
  });
  after(async () => app?.close());

  it('answers every read from the database with X-Cache: bypass', async function () {
    const created = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: 'uncached', date: '2020-01-01' }] });
    for (let i = 0; i < 2; i += 1) {
      const byId = await request(app.baseUrl, `/v1/${created.body.ids[0]}`);
      const search = await request(app.baseUrl, '/v1/?contains=uncached');
      expect([byId.headers.get('x-cache'), search.headers.get('x-cache')]).to.deep.equal(['bypass', 'bypass']);
      expect(search.body.items).to.have.length(1);
    }
  });
});
