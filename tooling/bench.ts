/**
 * `make bench`: loads BENCH_RECORDS generated records (default 1,000,000) into MariaDB through the
 * API as NDJSON streams (sampling the service's RSS), then measures each scenario against a
 * baseline taken in the same run on the same data, in BENCH_ROUNDS interleaved rounds (default 3),
 * and reports medians. Results: a table on stdout, bench/results/latest.json, latest.md and
 * latest.svg (a bar chart of the ratios), and the README section between the bench markers.
 * Every baseline that answers over HTTP is a bare node:http server in its own process, so a ratio
 * measures what the service adds (Koa, validation, auth, metrics, knex), not HTTP itself.
 *
 * Growth: before and after the main size, the database is grown to each BENCH_GROWTH size and
 * contains, range, by-id and bulk are measured once there (bench/results/growth.svg). The
 * reference row is PostgreSQL 15 with a pg_trgm GIN index over the same folded titles
 * (scripts/postgres starts it like MariaDB).
 *
 * Runs under scripts/with-test-servers (TEST_MYSQL_URL, TEST_REDIS_URL). Environment:
 *   BENCH_RECORDS (1000000), BENCH_GROWTH (100000,1000000,5000000), BENCH_SECONDS per autocannon
 *   run (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3)
 * Goals are reported, never asserted: this is a benchmark, not a test.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { createPostingsBuilder } from '../service/src/api/data/postings.js';
import { foldText } from '../service/src/api/domain/text.js';
import { generateRecords } from './generate-records.js';
import { ndjsonChunks, postNdjsonStream, sampleRss } from './ndjson-stream.js';
import { RAW_SERVER, rowsFor } from './bench/baselines.js';
import { fourWriters, latencies, load, median, medianFigure, pacedWriter, startProcess, stop, type Figure } from './bench/harness.js';
import { startCollector } from './bench/collector.js';
import { growthTable, writeGrowthChart, type GrowthPoint } from './bench/growth.js';
import { indexSizeRow, largerTableRow, referenceRow } from './bench/index-rows.js';
import { tableSizes } from './bench/table-sizes.js';
import { measurePostgres } from './bench/postgres.js';
import { judge, report, SCENARIOS, type Row } from './bench/report.js';
import { SETTINGS } from './bench/settings.js';

const { records: RECORDS, growth: GROWTH, seconds: SECONDS, rounds: ROUNDS, scanSamples: SCAN_SAMPLES, mysqlServer, redisUrl } = SETTINGS;
if (!mysqlServer || !redisUrl) throw new Error('run through `make bench` (scripts/with-test-servers provides MariaDB and Redis)');

async function main() {
  const dbUrl = new URL(mysqlServer);
  dbUrl.pathname = '/records_bench';
  const admin = await mysql.createConnection(mysqlServer);
  await admin.query('DROP DATABASE IF EXISTS records_bench');
  await admin.query('CREATE DATABASE records_bench CHARACTER SET utf8mb4');
  await admin.end();
  const database = { DATABASE_URL: dbUrl.toString() };
  const migrate = spawn(process.execPath, ['service/dist/main.js', 'migrate'], { env: { ...process.env, ...database, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  await new Promise((resolve) => migrate.on('exit', resolve));

  const keyPrefix = `bench${Date.now()}:`;
  const image = /NODE_OPTIONS="([^"]+)"/.exec(readFileSync('Dockerfile', 'utf8'))?.[1] ?? '';
  const serviceEnv = { ...database, NODE_OPTIONS: image };
  // As the image runs it: the tracing module preloaded, off without a collector endpoint.
  const entrypoint = ['--import', './service/dist/api/tracing.js', 'service/dist/main.js', 'serve'];
  const cached = await startProcess(entrypoint, { ...serviceEnv, REDIS_URL: redisUrl, CACHE_KEY_PREFIX: keyPrefix });
  const uncached = await startProcess(entrypoint, { ...serviceEnv, CACHE: 'off' });
  // Tracing's cost: the same service without the tracing module, and with tracing on, every request sampled.
  const collector = await startCollector();
  const untraced = await startProcess(['service/dist/main.js', 'serve'], { ...serviceEnv, CACHE: 'off' });
  const traced = await startProcess(entrypoint, { ...serviceEnv, CACHE: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_TRACES_SAMPLER: 'always_on' });
  const pool = mysql.createPool({ uri: dbUrl.toString(), connectionLimit: 8 });
  const rows: Row[] = [];
  const notes: string[] = [];
  let appendix = '';
  try {
    // 1. Load as NDJSON streams from one generator (the first RECORDS are the same titles every run),
    //    growing through the BENCH_GROWTH sizes below RECORDS, sampling the service's RSS.
    const source = generateRecords(Math.max(RECORDS, ...GROWTH), 42, 0)[Symbol.iterator]();
    const take = function* (count: number) {
      for (let i = 0; i < count; i += 1) {
        const next = source.next();
        if (next.done) return;
        yield next.value;
      }
    };
    let loadedTotal = 0;
    /** Loads until the table holds `target` records (bulk scenarios add records of their own). */
    const loadUpTo = async (target: number) => {
      const [[counted]] = (await pool.query('select count(*) as n from records')) as unknown as [[{ n: number }]];
      const response = await postNdjsonStream(uncached.url, ndjsonChunks(take(Math.max(0, target - Number(counted.n))), 256 * 1024));
      loadedTotal += ((await response.json()) as { inserted: number }).inserted;
    };
    const indexSize = () => tableSizes(pool, 'records_bench');
    // Inputs, the same for service and baseline.
    const idPathsUpTo = (count: number) => Array.from({ length: 2000 }, (_, i) => `/v1/${1 + ((i * 7919) % count)}`);
    const sampleTitles = [...generateRecords(5000, 42, 0)].map((record) => record.title ?? '');
    const terms = [...new Set(sampleTitles.map((title) => /no\. (\d{5})/.exec(title)?.[1]).filter(Boolean) as string[])].slice(0, 60);
    const months = Array.from({ length: 60 }, (_, i) => [Date.UTC(1985 + Math.floor(i / 12) * 7, i % 12, 1), Date.UTC(1985 + Math.floor(i / 12) * 7, (i % 12) + 1, 1)] as const);
    const iso = (ms: number) => new Date(ms).toISOString();
    const fetchBody = (url: string) => fetch(url).then((r) => r.arrayBuffer());

    const batches = Array.from({ length: 40 }, (_, b) => [...generateRecords(1000, 1000 + b, 0)]);
    const bodies = batches.map((items) => JSON.stringify({ items }));
    const postBatch = (batch: number) =>
      fetch(`${uncached.url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[batch % bodies.length] }).then((r) => r.arrayBuffer());
    const timeRange = (range: string) => fetchBody(`${uncached.url}/v1/?${range}`);
    const ranges = months.map(([after, before]) => `after=${iso(after)}&before=${iso(before)}`);
    let growthSeconds = 0;
    /** One measurement of each scenario at the current size (a growth point). */
    const growthPoint = async (): Promise<GrowthPoint> => {
      const started = performance.now();
      const { records } = await indexSize();
      // One unmeasured pass first, as the main table's rounds have: right after a load the pages are cold.
      await latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`));
      const contains = await latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`));
      const range = await latencies(ranges, timeRange);
      const byId = await load(uncached.url, idPathsUpTo(records));
      const bulkRowsPerSecond = await fourWriters(batches.length, postBatch);
      growthSeconds += (performance.now() - started) / 1000;
      console.log(`  at ${records} records: contains p99 ${contains.p99.toFixed(1)} ms, by id ${byId.rps} req/s, bulk ${Math.round(bulkRowsPerSecond)} rows/s`);
      return { records, containsP50: contains.p50, containsP99: contains.p99, rangeP50: range.p50, byIdRps: byId.rps, bulkRowsPerSecond };
    };

    const growth: GrowthPoint[] = [];
    const rss = sampleRss(uncached.child.pid as number, 100);
    const loadStarted = performance.now();
    for (const size of GROWTH.filter((n) => n < RECORDS)) {
      console.log(`growing to ${size} records...`);
      await loadUpTo(size);
      growth.push(await growthPoint());
    }
    console.log(`loading up to ${RECORDS} records as NDJSON requests...`);
    await loadUpTo(RECORDS);
    const peakRss = rss.stop();
    const loadSeconds = (performance.now() - loadStarted) / 1000 - growthSeconds;
    const index = await indexSize();
    const loaded = { inserted: index.records };
    notes.push(
      `Search index: ${Math.round((index.bytes * index.records) / 2 ** 20)} MiB, ${index.rows.toFixed(2)} posting rows and ${Math.round(index.bytes)} bytes per record (records table: ${Math.round(index.recordBytes)} bytes per record).`,
      `Loaded ${loadedTotal} records in ${loadSeconds.toFixed(0)} s (${Math.round(loadedTotal / loadSeconds)} records/s) as NDJSON requests; peak service RSS ${Math.round(peakRss / 2 ** 20)} MiB (goal < 200 MiB).`,
    );
    console.log(notes.join(' '));

    // Raw baselines as separate processes.
    const rawRedis = await startProcess(['--input-type=module', '-e', RAW_SERVER], { RAW_MODE: 'redis', REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix });
    const rawMysql = await startProcess(['--input-type=module', '-e', RAW_SERVER], { RAW_MODE: 'mysql', ...database });
    const idPaths = idPathsUpTo(loaded.inserted);
    await load(cached.url, idPaths); // fills the cache that both the service and the raw Redis server read

    const rounds: Record<string, { service: Figure[]; baseline: Figure[] }> = {};
    const add = (name: string, service: Figure, baseline: Figure) => {
      rounds[name] ??= { service: [], baseline: [] };
      rounds[name].service.push(service);
      rounds[name].baseline.push(baseline);
    };
    for (let round = 1; round <= ROUNDS; round += 1) {
      console.log(`reads, round ${round}/${ROUNDS}`);
      add(SCENARIOS.cacheHit, await load(cached.url, idPaths), await load(rawRedis.url, idPaths));
      const byId = await load(uncached.url, idPaths);
      add(SCENARIOS.byId, byId, await load(rawMysql.url, idPaths));
      add(SCENARIOS.tracingOff, byId, await load(untraced.url, idPaths));
      add(SCENARIOS.tracingOn, await load(traced.url, idPaths), byId);
      add(
        SCENARIOS.contains,
        await latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`)),
        await latencies(terms.slice((round - 1) * SCAN_SAMPLES).slice(0, SCAN_SAMPLES), (term) =>
          pool.query("select id, title, uri, date_ms, date_raw from records where title_folded like ? escape '!' order by date_ms, id limit 101", [`%${term}%`]),
        ),
      );
      add(
        SCENARIOS.range,
        await latencies(ranges, timeRange),
        await latencies(
          months.map(([after, before]) => `${after}/${before}`),
          (range) => fetchBody(`${rawMysql.url}/range/${range}`),
        ),
      );
    }

    // 2. Bulk writes: the service vs mysql2 writing the same rows (with and without the trigram index).
    const insertRaw = (table: 'records' | 'records_plain') => async (batch: number) => {
      const values = rowsFor(batches[batch % batches.length] as never);
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const [result] = await connection.query(`insert into ${table} (title, uri, date_ms, date_raw, title_folded, uri_folded) values ?`, [values]);
        if (table === 'records') {
          const first = (result as { insertId: number }).insertId;
          const postings = createPostingsBuilder();
          values.forEach((row, i) => postings.add(first + i, row[4] as string));
          const entries = postings.drain().map((row) => [row.trigram, row.first_id, row.n, row.ids]);
          for (let s = 0; s < entries.length; s += 4000) await connection.query('insert into title_postings (trigram, first_id, n, ids) values ?', [entries.slice(s, s + 4000)]);
        }
        await connection.commit();
      } finally {
        connection.release();
      }
    };
    await pool.query('create table records_plain like records');
    const bulk: { service: number[]; raw: number[]; plain: number[] } = { service: [], raw: [], plain: [] };
    for (let round = 1; round <= ROUNDS; round += 1) {
      console.log(`bulk writes, round ${round}/${ROUNDS}`);
      bulk.service.push(await fourWriters(batches.length, postBatch));
      bulk.raw.push(await fourWriters(batches.length, insertRaw('records')));
      bulk.plain.push(await fourWriters(batches.length, insertRaw('records_plain')));
    }
    const serviceRate = median(bulk.service);

    // 3. Reads at a fixed rate (a quarter of the service's by-id maximum), at idle and next to a
    //    bulk load paced at half the service's bulk rate. Fixed-rate reads make p99 comparable.
    const readRate = Math.round(median((rounds[SCENARIOS.byId]?.service ?? []).map((figure) => figure.rps)) / 4);
    const writeRates: number[] = [];
    const rawDuringLoad: Array<{ idle: number; busy: number }> = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      console.log(`reads during a bulk load, round ${round}/${ROUNDS}`);
      const idle = await load(uncached.url, idPaths, { connections: 4, rate: readRate });
      const [busy, writeRate] = await Promise.all([load(uncached.url, idPaths, { connections: 4, rate: readRate }), pacedWriter(SECONDS * 1000, serviceRate / 2, postBatch)]);
      writeRates.push(writeRate);
      add(SCENARIOS.duringLoad, busy, idle);
      // Context, not a goal: the bare server's reads next to the same load show what the database
      // and the shared cores cost, apart from anything the service's event loop adds.
      const rawIdle = await load(rawMysql.url, idPaths, { connections: 4, rate: readRate });
      const [rawBusy] = await Promise.all([load(rawMysql.url, idPaths, { connections: 4, rate: readRate }), pacedWriter(SECONDS * 1000, serviceRate / 2, postBatch)]);
      rawDuringLoad.push({ idle: rawIdle.p99, busy: rawBusy.p99 });
    }
    const rawIdleP99 = median(rawDuringLoad.map((r) => r.idle));
    const rawBusyP99 = median(rawDuringLoad.map((r) => r.busy));
    notes.push(
      `Reads during a bulk load: GET /v1/:id from the database at ${readRate} req/s (a quarter of its maximum) while bulk JSON requests are paced at ${Math.round(serviceRate / 2)} rows/s (reached ${Math.round(median(writeRates))} rows/s), against the same reads at idle. For comparison, the bare node:http + mysql2 server's reads at the same rate had p99 ${rawIdleP99} ms at idle and ${rawBusyP99} ms during the same load (${(rawBusyP99 / rawIdleP99).toFixed(2)}x).`,
    );
    await stop(rawRedis);
    await stop(rawMysql);

    for (const [name, figures] of Object.entries(rounds)) {
      const service = medianFigure(figures.service);
      const baseline = medianFigure(figures.baseline);
      rows.push({ scenario: name, service, baseline, ...judge(name, service, baseline) });
    }
    const rateRow = (scenario: string, baselineName: string, baseline: number, goal: number): Row => ({
      scenario,
      service: { rps: Math.round(serviceRate), p50: 0, p99: 0 },
      baseline: { rps: Math.round(baseline), p50: 0, p99: 0 },
      baselineName,
      ratio: serviceRate / baseline,
      ratioOf: 'rows/s',
      goal: `>= ${goal.toFixed(2)}`,
      met: serviceRate / baseline >= goal,
    });
    rows.push(rateRow('bulk JSON, 1,000 records/request, 4 connections', 'mysql2, same rows + posting rows', median(bulk.raw), 0.8));
    rows.push(rateRow('bulk JSON with the search index vs the same load without it', 'mysql2, table without index', median(bulk.plain), 0.4));

    // 4. The reference: PostgreSQL 15 + pg_trgm GIN over the same first RECORDS folded titles.
    console.log('PostgreSQL pg_trgm GIN reference...');
    const folded = Array.from(generateRecords(RECORDS, 42, 0), (record) => foldText(record.title ?? ''));
    const reference = await measurePostgres(folded, terms);
    const containsService = medianFigure(rounds[SCENARIOS.contains]?.service ?? []);
    rows.push(indexSizeRow(index, reference), referenceRow(reference, { loadRatio: median(bulk.service) / median(bulk.plain), indexBytes: index.bytes }));

    // 5. Growth: the point at RECORDS from the medians above, then the larger sizes.
    growth.push({
      records: loaded.inserted,
      containsP50: containsService.p50,
      containsP99: containsService.p99,
      rangeP50: medianFigure(rounds[SCENARIOS.range]?.service ?? []).p50,
      byIdRps: medianFigure(rounds[SCENARIOS.byId]?.service ?? []).rps,
      bulkRowsPerSecond: serviceRate,
    });
    for (const size of GROWTH.filter((n) => n > RECORDS)) {
      console.log(`growing to ${size} records...`);
      await loadUpTo(size);
      growth.push(await growthPoint());
    }
    const largest = growth.at(-1);
    if (largest && largest.records > loaded.inserted) {
      const at = await indexSize();
      rows.push(largerTableRow(largest, { records: loaded.inserted, contains: containsService }));
      notes.push(`At ${at.records} records the search index takes ${Math.round(at.bytes)} bytes and ${at.rows.toFixed(2)} posting rows per record.`);
    }
    writeGrowthChart('bench/results/growth.svg', growth);
    appendix = `Growth with the number of records, one measurement per size (the ${(loaded.inserted / 1e6).toFixed(1)}M row is the medians above):\n\n${growthTable(growth)}\n\n![growth](bench/results/growth.svg)\n`;
  } finally {
    await pool.end();
    for (const server of [cached, uncached, untraced, traced]) await stop(server);
    await collector.stop();
  }
  report(rows, notes, appendix);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
