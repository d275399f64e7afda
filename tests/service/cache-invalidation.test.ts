import { expect } from 'chai';
import { Redis } from 'ioredis';
import { request, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The route that answers a write makes the read cache stale (bumps its generation in Redis) once
 * the write has committed, and only when it stored something new: not for a refused atomic write,
 * nor for a replay. Against MariaDB and Redis (this was proved against in-memory stand-ins only).
 */
describe('cache invalidation after writes, on MariaDB and Redis', function () {
  this.timeout(60_000);
  const prefix = `invalidation${Date.now()}:`;
  let app: TestApp;
  let redis: Redis;
  const generation = async () => redis.get(`${prefix}generation`);

  before(async function () {
    app = await startTestApp('mysql', { REDIS_URL: process.env.TEST_REDIS_URL ?? '', CACHE_KEY_PREFIX: prefix });
    redis = new Redis(process.env.TEST_REDIS_URL ?? '');
    // A search makes the generation exist, as the first read of a running service does.
    expect((await request(app.baseUrl, '/v1/?contains=warm')).status).to.equal(200);
    expect(await generation()).to.be.a('string');
  });
  after(async function () {
    redis?.disconnect();
    await app?.close();
  });

  const item = (title: string, date = '2020-01-01') => ({ title, uri: null, date });
  const post = (body: string, type: string, headers: Record<string, string> = {}, query = '') =>
    request(app.baseUrl, `/v1/bulk${query}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

  it('bumps the generation once after a write that stored records', async function () {
    const before = Number(await generation());
    expect((await post(JSON.stringify({ items: [item('a'), item('b', 'May 23')] }), 'application/json')).status).to.equal(200);
    expect(Number(await generation()) - before).to.equal(1);
  });

  it('leaves it alone when an atomic write stored nothing', async function () {
    const before = await generation();
    expect((await post(JSON.stringify({ items: [item('a'), item('b', '')] }), 'application/json', {}, '?atomic=true')).status).to.equal(422);
    expect(await generation()).to.equal(before);
  });

  it('leaves it alone for a replayed write, a JSON body or an NDJSON stream, and stores nothing again', async function () {
    for (const [type, body] of [
      ['application/json', JSON.stringify({ items: [item(`json ${prefix}`)] })],
      ['application/x-ndjson', `${JSON.stringify(item(`x ${prefix}`))}\n{not json\n${JSON.stringify(item(`y ${prefix}`))}\n`],
    ] as const) {
      const headers = { 'idempotency-key': `key-${prefix}${type.replace('/', '.')}` };
      const first = await post(body, type, headers);
      expect(first.status, type).to.equal(200);
      const before = await generation();
      const stored = await app.countTagged(prefix);
      expect(stored, type).to.be.greaterThan(0);
      const retry = await post(body, type, headers);
      expect(retry.headers.get('idempotent-replayed'), type).to.equal('true');
      expect(retry.body, type).to.deep.equal(first.body);
      expect(await generation(), type).to.equal(before);
      expect(await app.countTagged(prefix), type).to.equal(stored);
      const other = await post(body.replace(/"date"/g, ' "date"'), type, headers);
      expect(other.status, `${type}: the same key with other bytes`).to.equal(422);
    }
  });
});
