import { expect } from 'chai';
import { OwnMariaDB } from '../support/mariadb-server.js';
import { postNdjsonStream } from '../../tooling/ndjson-stream.js';
import { OwnRedis } from '../support/redis-server.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

describe('MariaDB killed during a bulk request', function () {
  this.timeout(120_000);
  let mariadb: OwnMariaDB;
  let app: TestApp;

  before(async function () {
    mariadb = await new OwnMariaDB().start();
    const shared = { engine: 'mysql' as const, url: mariadb.url, drop: async () => {} };
    app = await startTestApp('mysql', { INSERT_BATCH_SIZE: '200' }, shared);
  });
  after(async function () {
    await app?.close();
    await mariadb?.dispose();
  });

  it('fails the request with 503, stores none of it, reports not-ready, and recovers by itself', async function () {
    const tag = `fault${Date.now()}`;
    let sent = 0;
    async function* slowBody() {
      for (let i = 0; i < 400; i += 1) {
        const lines = Array.from({ length: 200 }, (_, j) => JSON.stringify({ title: `${tag} ${i}-${j}`, date: '2020-01-01' })).join('\n');
        sent += 200;
        yield `${lines}\n`;
        if (i === 20) mariadb.kill(); // part-way through: batches were written, the transaction is open
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const started = Date.now();
    const response = await postNdjsonStream(app.baseUrl, slowBody());
    expect(response.status).to.equal(503);
    expect(response.headers.get('content-type')).to.match(/problem\+json/);
    expect(Date.now() - started, 'no request hangs past its timeout').to.be.below(30_000);
    expect(sent).to.be.greaterThan(4000);

    const notReady = await request(app.baseUrl, '/readyz');
    expect(notReady.status).to.equal(503);
    expect(notReady.body.reason).to.match(/^database unreachable/);
    const duringOutage = await request(app.baseUrl, '/v1/?limit=1');
    expect(duringOutage.status).to.equal(503);

    await mariadb.restart();
    await waitFor('readiness after MariaDB came back', async () => (await request(app.baseUrl, '/readyz')).status === 200, 30_000, 200);
    expect(await app.countTagged(tag), 'nothing of the failed request was stored').to.equal(0);
    expect((await request(app.baseUrl, '/v1/?limit=1')).status).to.equal(200);
  });
});

describe('Redis killed and restarted under load', function () {
  this.timeout(60_000);
  let redis: OwnRedis;
  let app: TestApp;
  before(async () => {
    redis = await new OwnRedis().start();
    // One process standing for many callers: the per-caller search bound (SEARCHES_PER_CALLER) is not what is tested.
    // A search limit of 500 ms (searches here take a few ms) turns any stall of the service during the
    // outage into a failed request: a blocking Redis stop once froze this process for 1.4 s.
    app = await startTestApp('mysql', { REDIS_URL: redis.url, CACHE_TIMEOUT_MS: '100', SEARCHES_PER_CALLER: '1000', SEARCH_TIME_LIMIT_MS: '500' });
    await request(app.baseUrl, '/v1/bulk', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ title: `load ${i}`, date: '2020-01-01' })) }),
    });
  });
  after(async () => {
    await app?.close();
    await redis?.dispose();
  });

  it('fails no request', async function () {
    let stop = false;
    const statuses: number[] = [];
    const client = async (n: number) => {
      let i = 0;
      while (!stop) {
        i += 1;
        const path = i % 3 === 0 ? `/v1/?contains=load%20${(n + i) % 50}` : `/v1/${1 + ((n + i) % 50)}`;
        statuses.push((await request(app.baseUrl, path)).status);
      }
    };
    const clients = Array.from({ length: 6 }, (_, n) => client(n));
    // Each phase lasts until enough requests were answered in it, not for a fixed time.
    const answered = (more: number) => {
      const target = statuses.length + more;
      return waitFor(`${more} more requests answered`, async () => statuses.length >= target, 30_000, 20);
    };
    const redisUp = async () => /^redis_up 1$/m.test((await request(app.baseUrl, '/metrics')).body as string);
    try {
      await answered(100);
      await redis.stop();
      await waitFor('the service to see Redis down', async () => !(await redisUp()), 30_000, 20);
      await answered(100);
      await redis.start();
      await waitFor('the service back on Redis', redisUp, 30_000, 20);
      await answered(100);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    expect(statuses.length).to.be.greaterThan(300);
    expect(statuses.filter((status) => status !== 200)).to.deep.equal([]);
  });
});

describe('soak: mixed reads and writes at fixed concurrency', function () {
  const seconds = Number(process.env.SOAK_SECONDS ?? 15);
  this.timeout((seconds + 60) * 1000);
  let app: TestApp;
  before(async () => {
    app = await startTestApp('mysql', { REDIS_URL: process.env.TEST_REDIS_URL ?? '', CACHE_KEY_PREFIX: `soak${Date.now()}:`, SEARCHES_PER_CALLER: '1000' });
  });
  after(async () => app?.close());

  it(`runs ${seconds} s with zero errors and bounded heap growth`, async function () {
    const errors: string[] = [];
    let requests = 0;
    /** Runs for `ms`, and on until `atLeast` requests were made in all: the heap check needs enough of them, however slow the machine. */
    const run = async (ms: number, n: number, atLeast = 0) => {
      const end = Date.now() + ms;
      let i = 0;
      while (Date.now() < end || requests < atLeast) {
        i += 1;
        const response =
          i % 10 === 0
            ? await request(app.baseUrl, '/v1/bulk', {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ items: Array.from({ length: 20 }, (_, j) => ({ title: `soak ${n} ${i} ${j}`, date: '2021-06-01' })) }),
              })
            : await request(app.baseUrl, i % 2 === 0 ? `/v1/?contains=soak%20${n}&limit=20` : `/v1/${1 + (i % 100)}`);
        requests += 1;
        if (![200, 404].includes(response.status)) errors.push(`${response.status}`);
      }
    };
    expect(global.gc, 'mocha runs with --expose-gc (.mocharc.json) so heap figures are after a full collection').to.be.a('function');
    const warmup = Math.min(5, seconds / 3) * 1000;
    await Promise.all(Array.from({ length: 8 }, (_, n) => run(warmup, n)));
    global.gc?.();
    const heapAfterWarmup = process.memoryUsage().heapUsed;
    const warmupRequests = requests;
    await Promise.all(Array.from({ length: 8 }, (_, n) => run(seconds * 1000 - warmup, n, warmupRequests + 2000)));
    global.gc?.();
    const growth = process.memoryUsage().heapUsed - heapAfterWarmup;
    expect(errors).to.deep.equal([]);
    // The app runs in this process: its heap may not grow by more than 64 MiB after warm-up.
    expect(growth, `heap growth ${Math.round(growth / 2 ** 20)} MiB`).to.be.below(64 * 2 ** 20);
  });
});
