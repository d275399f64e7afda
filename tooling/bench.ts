/**
 * `make bench`: loads BENCH_RECORDS generated records (default 1,000,000) into MariaDB through the
 * API as NDJSON streams (sampling the service's RSS), then measures each scenario against a
 * baseline taken in the same run on the same data, in BENCH_ROUNDS interleaved rounds (default 3),
 * and reports medians. Results: a table on stdout, bench/results/latest.json, latest.md and
 * latest.svg (a bar chart of the ratios), and the README section between the bench markers.
 * Every baseline that answers over HTTP is a bare node:http server in its own process, so a ratio
 * measures what the service adds (Koa, validation, auth, metrics, knex), not HTTP itself; the same
 * handler behind bare Koa 3 + @koa/router (Koa's floor) tells the framework's share from the service's.
 *
 * Growth: before and after the main size, the database is grown to each BENCH_GROWTH size and
 * contains, range, by-id and bulk are measured once there (bench/results/growth.svg). The
 * reference row is PostgreSQL 15 with a pg_trgm GIN index over the same folded titles
 * (scripts/postgres starts it like MariaDB).
 *
 * Runs under scripts/with-test-servers (TEST_MYSQL_URL, TEST_REDIS_URL). Environment:
 *   BENCH_RECORDS (1000000), BENCH_GROWTH (100000,1000000,5000000), BENCH_SECONDS per autocannon
 *   run (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3), BENCH_SMALL_WRITES (100000)
 * Goals are reported, never asserted: this is a benchmark, not a test.
 */
import mysql from 'mysql2/promise';
import { foldText } from '../service/src/api/domain/text.js';
import { RAW_SERVER } from './bench/baselines.js';
import { bulkRounds, rateRow } from './bench/bulk.js';
import { growthTable, writeGrowthChart, type GrowthPoint } from './bench/growth.js';
import { growthMeasure, recordLoader } from './bench/growing.js';
import { median, medianFigure, startProcess, type Started } from './bench/harness.js';
import { indexSizeRow, largerTableRow, referenceRow } from './bench/index-rows.js';
import { benchInputs } from './bench/inputs.js';
import { measurePostgres } from './bench/postgres.js';
import { figureRounds, readRounds, readsDuringLoad, roundRows } from './bench/reads.js';
import { recordStream } from './bench/record-stream.js';
import { report, SCENARIOS, type Row } from './bench/report.js';
import { createBenchDatabase, startServices } from './bench/services.js';
import { SETTINGS } from './bench/settings.js';
import { smallWrites } from './bench/small-writes.js';
import { scalar, tableSizes } from './bench/table-sizes.js';

const { records: RECORDS, growth: GROWTH, mysqlServer, redisUrl } = SETTINGS;
if (!mysqlServer || !redisUrl) throw new Error('run through `make bench` (scripts/with-test-servers provides MariaDB and Redis)');

async function main() {
  const database = await createBenchDatabase(mysqlServer);
  const pool = mysql.createPool({ uri: database.DATABASE_URL, connectionLimit: 8 });
  const started: Started = [];
  const rows: Row[] = [];
  const notes: string[] = [];
  let appendix = '';
  try {
    const services = await startServices(database, redisUrl, started);
    const { keyPrefix, cached, uncached, inline, preloaded, untraced, traced } = services;
    // 1. Load as NDJSON streams from the run's one stream of records (the table at each size holds
    //    its first records), growing through the BENCH_GROWTH sizes below RECORDS.
    const stream = recordStream(42);
    const { loadUpTo, loaded: loadedTotal, peakRss } = recordLoader(pool, uncached.url, stream, uncached.child.pid as number);
    const indexSize = () => tableSizes(pool, 'records_bench');
    // Inputs, the same for service and baseline.
    const inputs = benchInputs(uncached.url, stream);
    const { point: growthPoint, seconds: growthSeconds } = growthMeasure(uncached.url, inputs, indexSize);

    const growth: GrowthPoint[] = [];
    const loadStarted = performance.now();
    const smaller = GROWTH.filter((n) => n < RECORDS);
    for (const [i, size] of smaller.entries()) {
      console.log(`growing to ${size} records...`);
      await loadUpTo(size);
      // Its bulk writes stay below the next size, so the table reaches RECORDS exactly.
      growth.push(await growthPoint((smaller[i + 1] ?? RECORDS) - size));
    }
    console.log(`loading up to ${RECORDS} records as NDJSON requests...`);
    await loadUpTo(RECORDS);
    const loadSeconds = (performance.now() - loadStarted) / 1000 - growthSeconds();
    const index = await indexSize();
    // Every record written once: the table holds exactly the stream's first RECORDS.
    const counted = await scalar(pool, 'select count(*) from records');
    if (counted !== RECORDS || stream.taken() !== RECORDS) throw new Error(`the table holds ${counted} records and the run wrote ${stream.taken()}, not ${RECORDS}`);
    const bufferPool = await scalar(pool, 'select @@innodb_buffer_pool_size');
    notes.push(
      `MariaDB's buffer pool: ${Math.round(bufferPool / 2 ** 20)} MiB.`,
      `Search index: ${Math.round((index.bytes * index.records) / 2 ** 20)} MiB, ${index.rows.toFixed(2)} posting rows and ${Math.round(index.bytes)} bytes per record (records table: ${Math.round(index.recordBytes)} bytes per record).`,
      `The table holds ${counted} distinct records: ${loadedTotal()} loaded in ${loadSeconds.toFixed(0)} s (${Math.round(loadedTotal() / loadSeconds)} records/s) as NDJSON requests (peak service RSS while loading ${Math.round(peakRss() / 2 ** 20)} MiB, goal < 200 MiB), the rest by the bulk writes of the smaller sizes' measurements.`,
    );
    console.log(notes.join(' '));

    // Raw baselines as separate processes.
    const raw = (env: Record<string, string>) => startProcess(['--input-type=module', '-e', RAW_SERVER], env, started);
    const rawRedis = await raw({ RAW_MODE: 'redis', REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix });
    const rawMysql = await raw({ RAW_MODE: 'mysql', ...database });
    const koaRedis = await raw({ RAW_MODE: 'redis', RAW_FRAMEWORK: 'koa', REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix });
    const koaMysql = await raw({ RAW_MODE: 'mysql', RAW_FRAMEWORK: 'koa', ...database });
    const idPaths = inputs.idPathsUpTo(counted);

    const { rounds, add } = figureRounds();
    await readRounds(add, { cached, uncached, preloaded, untraced, traced, rawRedis, rawMysql, koaRedis, koaMysql }, inputs, pool, idPaths);

    // 2. Small writes on top of the bulk-loaded records, before any other scenario writes: what they
    //    cost the index once merged, and contains after them (the read rounds above write nothing).
    const small = await smallWrites(pool, uncached.url, inputs, indexSize, stream);
    notes.push(small.note);

    // 3. Bulk writes: the service vs mysql2 writing rows of the same kind (with and without the trigram index).
    const bulk = await bulkRounds(pool, inputs, stream);
    const serviceRate = median(bulk.service);

    // 4. Reads at a fixed rate during a bulk load, against the same reads at idle (bench/reads.ts).
    notes.push(await readsDuringLoad(add, rounds, { uncached, inline, rawMysql }, idPaths, serviceRate, inputs.serviceBatches, pool));

    rows.push(...roundRows(rounds));
    rows.push(rateRow(serviceRate, 'bulk JSON, 1,000 records/request, 4 connections', 'mysql2, rows of the same kind + posting rows', median(bulk.raw), 0.8));
    rows.push(rateRow(serviceRate, 'bulk JSON with the search index vs the same load without it', 'mysql2, table without index', median(bulk.plain), 0.4));

    // 5. The reference: PostgreSQL 15 + pg_trgm GIN over the same first RECORDS folded titles.
    console.log('PostgreSQL pg_trgm GIN reference...');
    const folded = Array.from(stream.first(RECORDS), (record) => foldText(record.title ?? ''));
    const reference = await measurePostgres(folded, inputs.terms);
    const containsService = medianFigure(rounds[SCENARIOS.contains]?.service ?? []);
    rows.push(indexSizeRow(index, reference), referenceRow(reference, { loadRatio: median(bulk.service) / median(bulk.plain), indexBytes: index.bytes }));
    rows.push(...small.rows);

    // 6. Growth: the point at RECORDS from the medians above, then the larger sizes.
    growth.push({
      records: counted,
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
    if (largest && largest.records > counted) {
      const at = await indexSize();
      rows.push(largerTableRow(largest, { records: counted, contains: containsService }));
      notes.push(`At ${at.records} records the search index takes ${Math.round(at.bytes)} bytes and ${at.rows.toFixed(2)} posting rows per record.`);
    }
    writeGrowthChart('bench/results/growth.svg', growth);
    appendix = `Growth with the number of records, one measurement per size (the ${(counted / 1e6).toFixed(1)}M row is the medians above):\n\n${growthTable(growth)}\n\n![growth](bench/results/growth.svg)\n`;
  } finally {
    await pool.end();
    // Everything this run started, last first, whatever stopped the run.
    for (const running of started.reverse()) await running.stop();
  }
  report(rows, notes, appendix);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
