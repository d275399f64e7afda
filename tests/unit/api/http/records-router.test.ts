import { expect } from 'chai';
import Koa, { type Middleware } from 'koa';
import type { AddressInfo } from 'node:net';
import { createRecordsService } from '../../../../service/src/api/domain/records-service.js';
import { problemMiddleware } from '../../../../service/src/api/http/problem.js';
import { createRecordsRouter } from '../../../../service/src/api/http/records-router.js';
import { createDisabledCache } from '../../../../service/src/api/cache/disabled-cache.js';
import { createLogger } from '../../../../service/src/shared/logger.js';
import { createInMemoryPorts } from '../../../support/in-memory-ports.js';

/**
 * The read cache sits in front of the domain for reads and invalidation alike: the route that
 * answers a write makes the cache stale once the write has committed, and only when it stored
 * something new (not for a refused write, nor for a replay).
 */
describe('the records router and the read cache', function () {
  let base: string;
  let close: () => void;
  let stale = 0;
  let ports: ReturnType<typeof createInMemoryPorts>;

  before(async function () {
    ports = createInMemoryPorts();
    const records = createRecordsService({ ...ports, streamBatchSize: 2 });
    const cache = { ...createDisabledCache(), afterWrite: async () => void (stale += 1) };
    const logger = createLogger({ logLevel: 'silent' });
    const principal: Middleware = async (ctx, next) => {
      ctx.state.principal = { subject: 'tester', issuer: 'test', scopes: new Set(['records:read', 'records:write']) };
      return next();
    };
    const router = createRecordsRouter({ records, cache, bodyLimit: 1 << 20, bodyRate: 16 * 1024, searchesPerCaller: 4, ndjsonLimits: { body: 1 << 20, line: 4096 }, authenticate: principal, idempotencyTtlMs: 60_000, bulkConcurrency: 1 });
    const app = new Koa().use(problemMiddleware({ logger })).use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(() => close());

  const item = (title: string, date = '2020-01-01') => ({ title, uri: null, date });
  const post = (body: string, type: string, headers: Record<string, string> = {}, query = '') =>
    fetch(`${base}/v1/bulk${query}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });

  it('makes the cache stale once after a write that stored records', async function () {
    const before = stale;
    const response = await post(JSON.stringify({ items: [item('a'), item('b', 'May 23')] }), 'application/json');
    expect(response.status).to.equal(200);
    expect(stale - before).to.equal(1);
  });

  it('leaves the cache alone when an atomic write stored nothing', async function () {
    const before = stale;
    const response = await post(JSON.stringify({ items: [item('a'), item('b', '')] }), 'application/json', {}, '?atomic=true');
    expect(response.status).to.equal(422);
    expect(stale - before).to.equal(0);
  });

  it('leaves the cache alone for a replayed write, a JSON body or an NDJSON stream', async function () {
    for (const [type, body] of [
      ['application/json', JSON.stringify({ items: [item('json')] })],
      ['application/x-ndjson', `${JSON.stringify(item('x'))}\n{not json\n${JSON.stringify(item('y'))}\n`],
    ] as const) {
      const headers = { 'idempotency-key': `key-${type.replace('/', '.')}` };
      const first = await post(body, type, headers);
      expect(first.status, type).to.equal(200);
      const before = stale;
      const stored = ports.records.length;
      const retry = await post(body, type, headers);
      expect(retry.headers.get('idempotent-replayed'), type).to.equal('true');
      expect(await retry.json(), type).to.deep.equal(await first.json());
      expect(stale - before, type).to.equal(0);
      expect(ports.records.length, type).to.equal(stored);
      const other = await post(body.replace(/"date"/g, ' "date"'), type, headers);
      expect(other.status, `${type}: the same key with other bytes`).to.equal(422);
    }
  });
});
