import { expect } from 'chai';
import { uniqueTag } from '../support/factories.js';
import { OwnRedis } from '../support/redis-server.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

describe('read cache when Redis fails', function () {
  let redis: OwnRedis;
  let app: TestApp;
  let tag: string;
  let id: number;

  before(async function () {
    redis = await new OwnRedis().start();
    app = await startTestApp('mysql', { REDIS_URL: redis.url, CACHE_TIMEOUT_MS: '100' });
    tag = uniqueTag();
    const created = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} survivor`, date: '2020-01-01' }] });
    id = created.body.ids[0];
  });
  after(async () => {
    await app?.close();
    await redis?.dispose();
  });

  it('answers from the database while Redis is down, then uses the cache again once it is back', async function () {
    await request(app.baseUrl, `/v1/${id}`);
    expect((await request(app.baseUrl, `/v1/${id}`)).headers.get('x-cache')).to.equal('hit');

    await redis.stop();
    for (let i = 0; i < 10; i += 1) {
      const started = Date.now();
      const [byId, search] = await Promise.all([request(app.baseUrl, `/v1/${id}`), request(app.baseUrl, `/v1/?contains=${tag}`)]);
      expect(Date.now() - started).to.be.below(1000);
      expect(byId.status).to.equal(200);
      expect(byId.body.title).to.equal(`${tag} survivor`);
      expect(byId.headers.get('x-cache')).to.equal('bypass');
      expect(search.status).to.equal(200);
      expect(search.body.items).to.have.length(1);
    }
    const written = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} during outage`, date: '2020-02-01' }] });
    expect(written.status).to.equal(200);

    await redis.start();
    await request(app.baseUrl, `/v1/${id}`);
    await waitFor('X-Cache: hit after Redis restarted', async () => (await request(app.baseUrl, `/v1/${id}`)).headers.get('x-cache') === 'hit');
    const search = await request(app.baseUrl, `/v1/?contains=${tag}`);
    expect(search.body.items).to.have.length(2);
  });

  it('stays correct and fast while Redis hangs, and owes no stale search after it recovers', async function () {
    const query = `/v1/?contains=${tag}`;
    await waitFor('a cached search', async () => (await request(app.baseUrl, query)).headers.get('x-cache') === 'hit');
    const before = (await request(app.baseUrl, query)).body.items.length;

    redis.pause();
    try {
      const started = Date.now();
      const written = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} while frozen`, date: '2020-03-01' }] });
      expect(written.status).to.equal(200);
      for (let i = 0; i < 5; i += 1) {
        const response = await request(app.baseUrl, query);
        expect(response.status).to.equal(200);
        expect(response.body.items).to.have.length(before + 1);
      }
      // Six requests, each paying at most one command timeout (100 ms) before skipping Redis.
      expect(Date.now() - started).to.be.below(3000);
    } finally {
      redis.resume();
    }
    // Redis kept the entry cached before the write; the owed generation bump must retire it.
    await waitFor('the cache to be used again', async () => {
      const response = await request(app.baseUrl, query);
      expect(response.body.items).to.have.length(before + 1);
      return response.headers.get('x-cache') === 'hit';
    });
  });
});
