import { expect } from 'chai';
import knex from 'knex';
import mysql from 'mysql2/promise';
import { loadConfig } from '../../service/src/api/config.js';
import { createDatabase, InconsecutiveIds } from '../../service/src/api/data/database.js';
import { createIndexCompactor } from '../../service/src/api/data/index-compactor.js';
import { createRuntime } from '../../service/src/api/runtime.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { ConfigError } from '../../service/src/shared/environment.js';
import { uniqueTag } from '../support/factories.js';
import { OwnMariaDB } from '../support/mariadb-server.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * One multi-row INSERT must get consecutive ids. A MariaDB stepping AUTO_INCREMENT by 3 (what
 * Galera's default wsrep_auto_increment_control does on a 3-node cluster) is refused at start-up,
 * and every connection made later is checked too. The test's MariaDB is told so with SET GLOBAL
 * (new sessions take it), and put back whatever happens.
 */
describe('a MySQL stepping AUTO_INCREMENT ids by more than one', function () {
  const url = process.env.TEST_MYSQL_URL;
  const admin = url ? knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 1 } }) : null;
  const setStep = (step: number) => admin!.raw(`SET GLOBAL auto_increment_increment = ${step}`);

  before(function () {
    if (!admin) throw new Error('TEST_MYSQL_URL is unset: run through scripts/with-test-servers');
  });
  after(async () => admin?.destroy());

  it('stops start-up with a message naming the setting, and refuses each new connection', async function () {
    await setStep(3);
    try {
      const config = loadConfig({ DATABASE_URL: url, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent' });
      let refused: unknown;
      await createRuntime(config, createLogger(config)).catch((error: unknown) => (refused = error));
      expect(refused).to.be.instanceOf(ConfigError);
      expect((refused as Error).message).to.match(/DATABASE_URL: the database steps AUTO_INCREMENT ids by 3 \(@@auto_increment_increment\).*wsrep_auto_increment_control=OFF/);

      const db = createDatabase(url!);
      try {
        let error: unknown;
        await db.knex.raw('select 1').catch((caught: unknown) => (error = caught));
        expect(error).to.be.instanceOf(InconsecutiveIds);
      } finally {
        await db.close();
      }
    } finally {
      await setStep(1);
    }
  });

  it('starts on a MySQL stepping by one', async function () {
    const config = loadConfig({ DATABASE_URL: url, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent' });
    const runtime = await createRuntime(config, createLogger(config));
    await runtime.close();
  });
});

/**
 * One INSERT of INSERT_BATCH_SIZE records must fit the server's max_allowed_packet, or every bulk
 * request with long enough rows fails with 503 "retry" forever: checked at start-up against the
 * largest rows the limits allow (titles and URIs at their maximum length, folded).
 */
describe('a MySQL whose max_allowed_packet cannot hold one INSERT of INSERT_BATCH_SIZE rows', function () {
  const url = process.env.TEST_MYSQL_URL;

  it('stops start-up naming INSERT_BATCH_SIZE and the largest size that fits', async function () {
    // MariaDB's default (MySQL 8's is 64 MiB), set for new sessions whatever the server's, and put back.
    const admin = knex({ client: 'mysql2', connection: url!, pool: { min: 0, max: 1 } });
    const [[{ packet }]] = (await admin.raw('SELECT @@global.max_allowed_packet AS packet')) as [[{ packet: number }]];
    await admin.raw(`SET GLOBAL max_allowed_packet = ${16 * 2 ** 20}`);
    try {
      const start = async (batch: string) => {
        const config = loadConfig({ DATABASE_URL: url, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent', INSERT_BATCH_SIZE: batch });
        return createRuntime(config, createLogger(config)).then(
          async (runtime) => {
            await runtime.close();
            return null;
          },
          (error: unknown) => error,
        );
      };
      const refused = await start('4000');
      expect(refused).to.be.instanceOf(ConfigError);
      expect((refused as Error).message).to.match(/INSERT_BATCH_SIZE: .*max_allowed_packet \(16 MiB\).*at most (6\d\d)\b/);
      const fits = /at most (\d+)/.exec((refused as Error).message)?.[1];
      expect(await start(fits!), `INSERT_BATCH_SIZE=${fits}`).to.equal(null);
      // A packet that holds a record but not the search index's statements is refused whatever the batch size.
      await admin.raw(`SET GLOBAL max_allowed_packet = ${256 * 1024}`);
      expect(((await start('1')) as Error).message).to.match(/DATABASE_URL: the database's max_allowed_packet \(262144 bytes\) cannot hold the search index's statements/);
    } finally {
      await admin.raw(`SET GLOBAL max_allowed_packet = ${packet}`);
      await admin.destroy();
    }
  });

  it('writes and merges the search index in statements that fit the packet the records fit', async function () {
    this.timeout(120_000);
    // 1 MiB holds 32 records at their widest. The index of 8,192 records sharing a title's 253
    // trigrams is 253 rows of 8,192 ids each: about 4 MiB in one INSERT, and 1.6 MiB in one of the
    // compactor's UPDATEs (100 rows) once small writes of such records are merged.
    const admin = knex({ client: 'mysql2', connection: url!, pool: { min: 0, max: 1 } });
    const [[{ packet }]] = (await admin.raw('SELECT @@global.max_allowed_packet AS packet')) as [[{ packet: number }]];
    await admin.raw(`SET GLOBAL max_allowed_packet = ${2 ** 20}`);
    let app: TestApp | undefined;
    try {
      app = await startTestApp('mysql', { INSERT_BATCH_SIZE: '32' });
      let seed = 7;
      const letters = Array.from({ length: 255 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[(seed = (seed * 48271) % 2147483647) % 36]).join('');
      const tag = uniqueTag();
      const title = `${tag} ${letters}`.slice(0, 255);
      const written = await postJson(app.baseUrl, '/v1/bulk', { items: Array.from({ length: 8192 }, () => ({ title, date: '2020-01-01' })) });
      expect(written.status, JSON.stringify(written.body)).to.equal(200);
      expect(written.body.ids).to.have.length(8192);
      const found = await request(app.baseUrl, `/v1/?contains=${letters.slice(100, 110)}&limit=1000`);
      expect(found.status).to.equal(200);
      expect(found.body.items).to.have.length(1000);
      expect(await app.countTagged(tag)).to.equal(8192);

      // Small writes of the same title, each a fragment, merged into rows of up to a group's ids.
      const small = Array.from({ length: 120 }, () => ({ title, date: '2020-01-02' }));
      const firstSmall = (await postJson(app.baseUrl, '/v1/bulk', { items: small })).body.ids[0] as number;
      for (let i = 1; i < 70; i += 1) expect((await postJson(app.baseUrl, '/v1/bulk', { items: small })).status).to.equal(200);
      const compactor = createIndexCompactor({ db: app.runtime.db });
      let merged = 0;
      for (let pass = 0; pass < 5 && merged === 0; pass += 1) merged += (await compactor.compact()).batches;
      expect(merged, 'merged batches').to.be.greaterThan(0);
      const [{ widest }] = (await app.runtime.db.knex('title_postings').where('first_id', '>=', firstSmall).max({ widest: 'n' })) as [{ widest: number }];
      expect(widest, 'ids in the widest merged row').to.be.greaterThan(8000);
      expect(await app.countTagged(tag)).to.equal(8192 + 70 * 120);
    } finally {
      await app?.close();
      await admin.raw(`SET GLOBAL max_allowed_packet = ${packet}`);
      await admin.destroy();
    }
  });
});

/**
 * A real Galera node (Debian's galera-4 provider), a cluster of one: it steps ids by one, but with
 * wsrep_auto_increment_control on it raises the step of every session, open ones included, as soon
 * as a second node joins, so the check at connect time cannot vouch for it: refused at start-up.
 */
describe('a Galera node', function () {
  this.timeout(120_000);
  const galera = new OwnMariaDB({ galera: 'ON' });
  before(async () => galera.start());
  after(async () => galera.dispose());

  it('is refused while wsrep_auto_increment_control is on, even at a step of one; accepted once it is off', async function () {
    const admin = knex({ client: 'mysql2', connection: galera.url, pool: { min: 0, max: 1 } });
    try {
      const [rows] = (await admin.raw("SHOW STATUS LIKE 'wsrep_cluster_size'")) as [Array<{ Value: string }>];
      expect(rows[0]?.Value, 'a real Galera cluster of one').to.equal('1');
      const start = async () => {
        const config = loadConfig({ DATABASE_URL: galera.url, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent' });
        return createRuntime(config, createLogger(config));
      };
      const refused = await start().then(
        async (runtime) => {
          await runtime.close();
          return null;
        },
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(ConfigError);
      expect((refused as Error).message).to.match(/Galera node with wsrep_auto_increment_control=ON/);

      await admin.raw('SET GLOBAL wsrep_auto_increment_control = OFF');
      const runtime = await start();
      await runtime.close();
    } finally {
      await admin.destroy();
    }
  });
});

/**
 * A real Galera cluster of two nodes on loopback. With wsrep_auto_increment_control on, the second
 * node's joining raises @@auto_increment_increment in a session opened before it, which is why a
 * node that passes the step check on its own is refused. With it off, as production's MariaDB sets
 * it, ids stay consecutive, and records written through one node are served right through the other.
 */
describe('a Galera cluster of two', function () {
  this.timeout(180_000);
  const nodes: OwnMariaDB[] = [];
  const node = async (options: ConstructorParameters<typeof OwnMariaDB>[0]) => {
    const started = new OwnMariaDB(options);
    nodes.push(started);
    return started.start();
  };
  after(async () => {
    for (const started of nodes.reverse()) await started.dispose();
  });

  it('steps ids two apart in an open session once a second node joins, with wsrep_auto_increment_control on', async function () {
    const first = await node({ galera: 'ON' });
    const session = await mysql.createConnection(first.url);
    try {
      await session.query('CREATE TABLE steps (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB');
      const insertThree = async () => {
        const [result] = (await session.query('INSERT INTO steps (v) VALUES (1), (2), (3)')) as unknown as [{ insertId: number }];
        const [rows] = (await session.query('SELECT id FROM steps WHERE id >= ? ORDER BY id', [result.insertId])) as unknown as [Array<{ id: number }>];
        return rows.map((row) => Number(row.id) - result.insertId);
      };
      expect(await insertThree(), 'alone').to.deep.equal([0, 1, 2]);
      await node({ galera: 'ON', join: first });
      const [[size]] = (await session.query("SHOW STATUS LIKE 'wsrep_cluster_size'")) as unknown as [[{ Value: string }]];
      expect(size.Value).to.equal('2');
      expect(await insertThree(), 'after the second node joined').to.deep.equal([0, 2, 4]);
    } finally {
      await session.end();
    }
  });

  it('keeps ids consecutive with it off, so records written through one node are served right through the other', async function () {
    const first = await node({ galera: 'OFF' });
    const second = await node({ galera: 'OFF', join: first });
    const apps: TestApp[] = [];
    // Galera applies a write on other nodes asynchronously: reads through the second node wait for
    // what the cluster has committed (causal reads), as an application reading its writes would ask.
    const admin = knex({ client: 'mysql2', connection: second.url, pool: { min: 0, max: 1 } });
    await admin.raw('SET GLOBAL wsrep_sync_wait = 1').finally(() => admin.destroy());
    try {
      // Each app migrates (a no-op on the second); the database is the cluster's, dropped with it.
      for (const { url } of [first, second]) apps.push(await startTestApp('mysql', {}, { engine: 'mysql', url, drop: async () => undefined }));
      const [viaFirst, viaSecond] = apps as [TestApp, TestApp];
      const tag = uniqueTag();
      const items = Array.from({ length: 1200 }, (_, i) => ({ title: `${tag} ${i}`, date: '2020-01-01' }));
      const written = await postJson(viaFirst.baseUrl, '/v1/bulk', { items });
      expect(written.status).to.equal(200);
      const ids = written.body.ids as number[];
      for (const i of [0, 1, 499, 500, 501, 999, 1000, 1199]) {
        const read = await request(viaSecond.baseUrl, `/v1/${ids[i]}`);
        expect(read.body.title, `record ${i}, id ${ids[i]}`).to.equal(`${tag} ${i}`);
      }
      expect(await viaSecond.countTagged(tag)).to.equal(1200);
    } finally {
      for (const app of apps) await app.close();
    }
  });
});
