import { expect } from 'chai';
import { createDatabase } from '../../service/src/api/data/database.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { expectedPostings, storedPostings } from '../support/postings-check.js';
import { checkOutPreviousRelease, migrateWith } from '../support/previous-release.js';
import { ServiceProcess } from '../support/service-process.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A rolling upgrade across a search index migration, as the chart performs it, with two real
 * processes against one MariaDB: the previous release serves; this release's migration runs
 * (the PreSync Job); a pod of this release starts and joins; the old one is drained and stopped.
 * Clients loop writes, reads by id and indexed searches throughout, round-robin over the pods
 * that are in rotation (a Service's endpoints), and no request may fail.
 */
describe('a rolling upgrade from the previous release across the index migration (MariaDB)', function () {
  this.timeout(180_000);
  let previous: ReturnType<typeof checkOutPreviousRelease>;
  let testDb: TestDatabase;
  const processes: ServiceProcess[] = [];

  before(async function () {
    previous = checkOutPreviousRelease();
    testDb = await createTestDatabase('mysql');
  });
  after(async function () {
    for (const service of processes) await service.stop();
    await testDb?.drop();
    previous?.remove();
  });

  it('answers every write, read and search while both versions serve, and leaves the index exact', async function () {
    const env = { DATABASE_URL: testDb.url, CACHE: 'off', SHUTDOWN_DRAIN_SECONDS: '1', SHUTDOWN_TIMEOUT_SECONDS: '20' };
    migrateWith(previous.root, testDb.url);
    const old = await ServiceProcess.start(env, { root: previous.root });
    processes.push(old);
    const rotation = [old.baseUrl];
    const failures: string[] = [];
    const served = new Map<string, number>();
    let stopping = false;
    let turn = 0;

    const request = async (kind: string, path: string, init?: RequestInit) => {
      const base = rotation[turn++ % rotation.length] as string;
      try {
        const response = await fetch(`${base}${path}`, init);
        const body = await response.text();
        if (!response.ok) failures.push(`${kind} ${base} ${response.status}: ${body.slice(0, 200)}`);
        else served.set(`${kind} ${base}`, (served.get(`${kind} ${base}`) ?? 0) + 1);
        return response.ok ? (JSON.parse(body) as { ids?: number[] }) : null;
      } catch (error) {
        failures.push(`${kind} ${base}: ${String((error as Error).cause ?? error)}`);
        return null;
      }
    };
    const client = async (n: number) => {
      for (let i = 0; !stopping; i += 1) {
        const titles = Array.from({ length: 1 + (i % 5) }, (_, j) => ({ title: `upgrade note ${n}-${i}-${j}`, date: '2024-05-01' }));
        const written = await request('write', '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: titles }) });
        const id = written?.ids?.[0];
        if (id !== undefined) await request('read', `/v1/${id}`);
        await request('search', `/v1/?contains=note%20${n}-${i}`);
      }
    };
    const clients = Array.from({ length: 4 }, (_, n) => client(n));

    await sleep(1500);
    expect(migrateWith(process.cwd(), testDb.url)).to.match(/0005_index_fragments/);
    await sleep(1000);
    const upgraded = await ServiceProcess.start(env);
    processes.push(upgraded);
    while ((await fetch(`${upgraded.baseUrl}/readyz`)).status !== 200) await sleep(100);
    rotation.push(upgraded.baseUrl);
    await sleep(1500);
    // The old pod leaves the endpoints as it is told to stop; requests it holds finish.
    rotation.splice(0, 1);
    old.signal('SIGTERM');
    expect(await old.exitCode).to.equal(0);
    await sleep(1000);
    stopping = true;
    await Promise.all(clients);

    expect(failures.length, failures.slice(0, 5).join('\n')).to.equal(0);
    for (const kind of ['write', 'read', 'search']) {
      expect(served.get(`${kind} ${old.baseUrl}`), `${kind}s the previous release served`).to.be.greaterThan(0);
      expect(served.get(`${kind} ${upgraded.baseUrl}`), `${kind}s this release served`).to.be.greaterThan(0);
    }
    const db = createDatabase(testDb.url);
    try {
      expect(await storedPostings(db.knex)).to.deep.equal(await expectedPostings(db.knex));
    } finally {
      await db.close();
    }
  });
});
