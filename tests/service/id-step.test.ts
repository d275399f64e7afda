import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import mysql from 'mysql2/promise';
import { loadConfig } from '../../service/src/api/config.js';
import { createDatabase, InconsecutiveIds } from '../../service/src/api/data/database.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createIndexCompactor } from '../../service/src/api/data/index-compactor.js';
import { createRuntime } from '../../service/src/api/runtime.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { ConfigError } from '../../service/src/shared/environment.js';
import { createTestDatabase } from '../support/databases.js';
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
 * largest rows the limits allow (titles and URIs at their maximum length, folded), and the same for
 * the search index's statements and the responses remembered for Idempotency-Keys. Each test sets
 * the packet for new sessions with SET GLOBAL, whatever the server's, and it is put back.
 */
describe('a MySQL whose max_allowed_packet cannot hold what the service writes', function () {
  const url = process.env.TEST_MYSQL_URL;
  let admin: Knex;
  let packet: number;
  const setPacket = (bytes: number) => admin.raw(`SET GLOBAL max_allowed_packet = ${bytes}`);
  /** Starts the service's runtime on the test database and closes it: null, or why start-up refused. */
  const start = async (env: Record<string, string>): Promise<Error | null> => {
    const config = loadConfig({ DATABASE_URL: url, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent', ...env });
    return createRuntime(config, createLogger(config)).then(
      async (runtime) => {
        await runtime.close();
        return null;
      },
      (error: Error) => error,
    );
  };
  const refusal = async (env: Record<string, string>): Promise<string> => {
    const refused = await start(env);
    expect(refused).to.be.instanceOf(ConfigError);
    return refused!.message;
  };

  before(async () => {
    admin = knex({ client: 'mysql2', connection: url!, pool: { min: 0, max: 1 } });
    [[{ packet }]] = (await admin.raw('SELECT @@global.max_allowed_packet AS packet')) as [[{ packet: number }]];
  });
  afterEach(async () => setPacket(packet));
  after(async () => admin?.destroy());

  it('stops start-up naming INSERT_BATCH_SIZE and the largest size that fits', async function () {
    // MariaDB's default (MySQL 8's is 64 MiB).
    await setPacket(16 * 2 ** 20);
    const refused = await refusal({ INSERT_BATCH_SIZE: '4000' });
    expect(refused).to.match(/INSERT_BATCH_SIZE: .*max_allowed_packet \(16 MiB\).*at most (6\d\d)\b/);
    const fits = /at most (\d+)/.exec(refused)![1]!;
    expect(await start({ INSERT_BATCH_SIZE: fits }), `INSERT_BATCH_SIZE=${fits}`).to.equal(null);
    // A packet that holds a record but not the search index's statements is refused whatever the batch size.
    await setPacket(256 * 1024);
    expect(await refusal({ INSERT_BATCH_SIZE: '1' })).to.match(/DATABASE_URL: the database's max_allowed_packet \(262144 bytes\) cannot hold the search index's statements/);
  });

  it('stops start-up when a response remembered for an Idempotency-Key could not fit, and remembers the largest at the packet it names', async function () {
    this.timeout(120_000);
    // 1 MiB holds 32 records at their widest and the index's statements, not the response to
    // 10,000 items each rejected for an unknown field of 64 control characters (about 5 MiB as an
    // INSERT's value). Started anyway, every retry of such a keyed request failed with 503.
    await setPacket(2 ** 20);
    const tooSmall = await refusal({ INSERT_BATCH_SIZE: '32' });
    expect(tooSmall).to.match(/DATABASE_URL: the database's max_allowed_packet \(1048576 bytes\) cannot hold the search index's statements .* and the responses remembered for Idempotency-Keys/);
    const needed = Number(/at least (\d+) MiB/.exec(tooSmall)?.[1]);
    expect(needed, tooSmall).to.be.within(5, 8);

    // At that packet, a stream of 1 GiB (the default limit) in INSERTs of 32 records could name
    // more id ranges than it holds.
    await setPacket(needed * 2 ** 20);
    const tooLong = await refusal({ INSERT_BATCH_SIZE: '32' });
    expect(tooLong).to.match(/NDJSON_BODY_LIMIT: a stream's response remembered for an Idempotency-Key can take .* set NDJSON_BODY_LIMIT to at most (\d+)/);
    const limit = /at most (\d+)/.exec(tooLong)![1]!;
    expect(Number(limit)).to.be.within(2 ** 20, 2 ** 30);

    const app = await startTestApp('mysql', { INSERT_BATCH_SIZE: '32', NDJSON_BODY_LIMIT: limit });
    try {
      const name = '\u0001'.repeat(70);
      const body = JSON.stringify({ items: Array.from({ length: 10_000 }, () => ({ [name]: 1 })) });
      const key = `k-${uniqueTag()}`;
      const keyed = () => request(app.baseUrl, '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
      const first = await keyed();
      expect(first.status, JSON.stringify(first.body).slice(0, 300)).to.equal(200);
      expect(first.body.rejected).to.have.length(10_000);
      const retry = await keyed();
      expect(retry.status).to.equal(200);
      expect(retry.headers.get('idempotent-replayed')).to.equal('true');
      expect(retry.body).to.deep.equal(first.body);
    } finally {
      await app.close();
    }
  });

  it('writes and merges the search index in statements that fit any packet that holds them', async function () {
    this.timeout(120_000);
    // The index of 8,192 records sharing a title's 253 trigrams is 253 rows of 8,192 ids each:
    // about 4 MiB in one INSERT, and 1.6 MiB in one of the compactor's UPDATEs (100 rows) once small
    // writes of such records are merged. The service starts with no less than about 6 MiB (the
    // remembered responses, above), so the write path and the compactor run here on a database
    // opened without that check, at 1 MiB: their statements must split on their own.
    const database = await createTestDatabase('mysql');
    await setPacket(2 ** 20);
    const db = createDatabase(database.url);
    let app: TestApp | undefined;
    try {
      await migrateLatest(db.knex);
      const store = createRecordsStore({ db, batchSize: 32 });
      let seed = 7;
      const letters = Array.from({ length: 255 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[(seed = (seed * 48271) % 2147483647) % 36]).join('');
      const tag = uniqueTag();
      const title = `${tag} ${letters}`.slice(0, 255);
      const records = (count: number) => Array.from({ length: count }, () => ({ title, uri: null, dateMs: Date.UTC(2020, 0, 1), dateRaw: '2020-01-01' }));
      expect(await store.inTransaction((tx) => tx.insert(records(8192)))).to.have.length(8192);

      // Small writes of the same title, each a fragment, merged into rows of up to a group's ids.
      const [firstSmall] = await store.inTransaction((tx) => tx.insert(records(120)));
      for (let i = 1; i < 70; i += 1) await store.inTransaction((tx) => tx.insert(records(120)));
      const compactor = createIndexCompactor({ db });
      let merged = 0;
      for (let pass = 0; pass < 5 && merged === 0; pass += 1) merged += (await compactor.compact()).batches;
      expect(merged, 'merged batches').to.be.greaterThan(0);
      const [{ widest }] = (await db.knex('title_postings').where('first_id', '>=', firstSmall!).max({ widest: 'n' })) as [{ widest: number }];
      expect(widest, 'ids in the widest merged row').to.be.greaterThan(8000);

      // What was written is found, through the service at a packet it starts with.
      await setPacket(6 * 2 ** 20);
      app = await startTestApp('mysql', { INSERT_BATCH_SIZE: '32', NDJSON_BODY_LIMIT: '64MiB' }, database);
      const found = await request(app.baseUrl, `/v1/?contains=${letters.slice(100, 110)}&limit=1000`);
      expect(found.status).to.equal(200);
      expect(found.body.items).to.have.length(1000);
      expect(await app.countTagged(tag)).to.equal(8192 + 70 * 120);
      expect(await app.orphanPostings()).to.deep.equal([]);
    } finally {
      await app?.close();
      await db.close();
      await database.drop();
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
