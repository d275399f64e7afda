/**
 * `make bench`: loads BENCH_RECORDS generated records (default 1,000,000) into MariaDB through the
 * API as one NDJSON stream (sampling the service's RSS), then measures each scenario against a
 * baseline taken in the same run on the same data, in BENCH_ROUNDS interleaved rounds (default 3),
 * and reports medians. Results: a table on stdout, bench/results/latest.json, latest.md and
 * latest.svg (a bar chart of the ratios), and the README section between the bench markers.
 * Every baseline that answers over HTTP is a bare node:http server in its own process, so a ratio
 * measures what the service adds (Koa, validation, auth, metrics, knex), not HTTP itself.
 *
 * Runs under scripts/with-test-servers (TEST_MYSQL_URL, TEST_REDIS_URL). Environment:
 *   BENCH_RECORDS (1000000), BENCH_SECONDS per autocannon run (5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3)
 * Goals are reported, never asserted: this is a benchmark, not a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import mysql from 'mysql2/promise';
import { foldText, foldUri } from '../service/src/domain/text.js';
import { parseRecordDate } from '../service/src/domain/dates.js';
import { trigramsOf } from '../service/src/domain/trigrams.js';
import { ndjsonChunks, postNdjsonStream, sampleRss } from '../service/test/support/ndjson-stream.js';
import { generateRecords } from './generate-records.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** LIKE scans take seconds each at 1M rows; a few per round are enough to know their latency. */
const SCAN_SAMPLES = 10;
const mysqlServer = process.env.TEST_MYSQL_URL as string;
const redisUrl = process.env.TEST_REDIS_URL as string;
if (!mysqlServer || !redisUrl) throw new Error('run through `make bench` (scripts/with-test-servers provides MariaDB and Redis)');

type Figure = { rps: number; p50: number; p99: number };
type Row = { scenario: string; service: Figure; baseline: Figure; baselineName: string; ratio: number; ratioOf: string; goal: string; met: boolean };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const medianFigure = (figures: Figure[]): Figure => ({
  rps: median(figures.map((f) => f.rps)),
  p50: median(figures.map((f) => f.p50)),
  p99: median(figures.map((f) => f.p99)),
});
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function waitUntilUp(url: string) {
  for (let i = 0; i < 200; i += 1) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

async function startProcess(args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_MODE: 'disabled' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/healthz`);
  return { url, child };
}

async function stop(process_: { child: ChildProcess }) {
  const exited = new Promise((resolve) => process_.child.once('exit', resolve));
  process_.child.kill('SIGTERM');
  await exited;
}

/** autocannon over a list of paths, cycling through them; `rate` caps the total requests per second. */
async function load(url: string, paths: string[], { connections = CONNECTIONS, rate }: { connections?: number; rate?: number } = {}): Promise<Figure> {
  let next = 0;
  const result = await autocannon({
    url,
    connections,
    duration: SECONDS,
    ...(rate ? { overallRate: rate } : {}),
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] as string }) }],
  });
  if (result.errors + result.non2xx > 0) console.warn(`  ${result.errors + result.non2xx} failed requests against ${url}`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

/** Sequential latencies of `work` over `inputs`: one at a time, as a single client sees them. */
async function latencies(inputs: string[], work: (input: string) => Promise<unknown>): Promise<Figure> {
  const times: number[] = [];
  const started = performance.now();
  for (const input of inputs) {
    const t = performance.now();
    await work(input);
    times.push(performance.now() - t);
  }
  return { rps: Math.round(inputs.length / ((performance.now() - started) / 1000)), p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

// A raw node:http server answering GET /:id from Redis or MySQL: the floor the service is compared with.
const RAW_SERVER = `
  import { createServer } from 'node:http';
  const mode = process.env.RAW_MODE;
  let get;
  if (mode === 'redis') {
    const { Redis } = await import('ioredis');
    const redis = new Redis(process.env.REDIS_URL);
    get = (path) => redis.get(process.env.KEY_PREFIX + 'record:' + path.slice(4));
  } else {
    const mysql = await import('mysql2/promise');
    const pool = mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 10 });
    const view = (r) => ({ id: r.id, title: r.title, uri: r.uri, date: new Date(Number(r.date_ms)).toISOString(), rawDate: r.date_raw });
    get = async (path) => {
      // /range/AFTER_MS/BEFORE_MS: one page of a date-range search, shaped as the service's.
      const range = path.startsWith('/range/') ? path.split('/') : null;
      if (range) {
        const [rows] = await pool.execute(
          'select id, title, uri, date_ms, date_raw from records where date_ms >= ? and date_ms < ? order by date_ms, id limit 101',
          [range[2], range[3]],
        );
        return JSON.stringify({ items: rows.slice(0, 100).map(view), next: rows.length > 100 ? 'more' : null });
      }
      const [rows] = await pool.execute('select id, title, uri, date_ms, date_raw from records where id = ?', [path.slice(4)]);
      return rows[0] ? JSON.stringify(view(rows[0])) : null;
    };
  }
  createServer(async (req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    const body = await get(req.url);
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '');
  }).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** Column values for mysql2, as the service stores them. */
function rowsFor(records: Array<{ title: string | null; uri: string | null; date: unknown }>): unknown[][] {
  return records.map((record) => {
    const date = parseRecordDate(String(record.date));
    return [record.title, record.uri, date.ok ? date.ms : 0, String(record.date), foldText(record.title ?? ''), foldUri(record.uri ?? '')];
  });
}

/**
 * Runs `write(batch)` from 4 concurrent writers, batch after batch, for at least BENCH_SECONDS (and
 * at least `minBatches`), so fast and slow writers are both timed over seconds; rows per second.
 */
async function fourWriters(minBatches: number, write: (batch: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < minBatches || performance.now() < until) await write(next++);
    }),
  );
  return (next * 1000) / ((performance.now() - started) / 1000);
}

/**
 * Sends 1,000-record bodies at `rowsPerSecond` (at most 4 in flight) for `ms`; the rows/s reached.
 * A paced writer, unlike `fourWriters`, leaves headroom: this is a load running next to reads.
 */
async function pacedWriter(ms: number, rowsPerSecond: number, write: (batch: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const interval = 1_000_000 / rowsPerSecond;
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  for (let k = 0; k * interval < ms; k += 1) {
    await sleep(Math.max(0, started + k * interval - performance.now()));
    if (inFlight.size >= 4) await Promise.race(inFlight);
    const request = write(k).then(() => (sent += 1000));
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }
  await Promise.all(inFlight);
  return sent / ((performance.now() - started) / 1000);
}

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
  const cached = await startProcess(['service/dist/main.js', 'serve'], { ...serviceEnv, REDIS_URL: redisUrl, CACHE_KEY_PREFIX: keyPrefix });
  const uncached = await startProcess(['service/dist/main.js', 'serve'], { ...serviceEnv, CACHE: 'off' });
  const pool = mysql.createPool({ uri: dbUrl.toString(), connectionLimit: 8 });
  const rows: Row[] = [];
  const notes: string[] = [];
  try {
    // 1. Load everything as one NDJSON stream, sampling the service's RSS.
    console.log(`loading ${RECORDS} records as one NDJSON request...`);
    const rss = sampleRss(uncached.child.pid as number, 100);
    const loadStarted = performance.now();
    const response = await postNdjsonStream(uncached.url, ndjsonChunks(generateRecords(RECORDS, 42, 0), 256 * 1024));
    const loaded = (await response.json()) as { inserted: number };
    const peakRss = rss.stop();
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await pool.query('analyze table records, title_trigrams');
    const [sizes] = (await pool.query(
      "select table_name as name, data_length + index_length as bytes, table_rows as row_count from information_schema.tables where table_schema = 'records_bench'",
    )) as unknown as [Array<{ name: string; bytes: number; row_count: number }>];
    const size = (name: string) => sizes.find((table) => table.name === name);
    const indexBytes = Number(size('title_trigrams')?.bytes ?? 0);
    notes.push(
      `Trigram index: ${Math.round(indexBytes / 2 ** 20)} MiB, about ${Math.round(Number(size('title_trigrams')?.row_count ?? 0) / loaded.inserted)} entries and ${Math.round(indexBytes / loaded.inserted)} bytes per record (records table: ${Math.round(Number(size('records')?.bytes ?? 0) / loaded.inserted)} bytes per record).`,
      `Loaded ${loaded.inserted} records in ${loadSeconds.toFixed(0)} s (${Math.round(loaded.inserted / loadSeconds)} records/s) as one NDJSON request; peak service RSS ${Math.round(peakRss / 2 ** 20)} MiB (goal < 200 MiB).`,
    );
    console.log(notes.join(' '));

    // Inputs, the same for service and baseline.
    const ids = Array.from({ length: 2000 }, (_, i) => 1 + ((i * 7919) % loaded.inserted));
    const sampleTitles = [...generateRecords(5000, 42, 0)].map((record) => record.title ?? '');
    const terms = [...new Set(sampleTitles.map((title) => /no\. (\d{5})/.exec(title)?.[1]).filter(Boolean) as string[])].slice(0, 60);
    const months = Array.from({ length: 60 }, (_, i) => [Date.UTC(1985 + Math.floor(i / 12) * 7, i % 12, 1), Date.UTC(1985 + Math.floor(i / 12) * 7, (i % 12) + 1, 1)] as const);
    const iso = (ms: number) => new Date(ms).toISOString();
    const fetchBody = (url: string) => fetch(url).then((r) => r.arrayBuffer());

    // Raw baselines as separate processes.
    const rawRedis = await startProcess(['--input-type=module', '-e', RAW_SERVER], { RAW_MODE: 'redis', REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix });
    const rawMysql = await startProcess(['--input-type=module', '-e', RAW_SERVER], { RAW_MODE: 'mysql', ...database });
    const idPaths = ids.map((id) => `/v1/${id}`);
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
      add(SCENARIOS.byId, await load(uncached.url, idPaths), await load(rawMysql.url, idPaths));
      add(
        SCENARIOS.contains,
        await latencies(terms, (term) => fetchBody(`${uncached.url}/v1/?contains=${term}`)),
        await latencies(terms.slice((round - 1) * SCAN_SAMPLES).slice(0, SCAN_SAMPLES), (term) =>
          pool.query("select id, title, uri, date_ms, date_raw from records where title_folded like ? escape '!' order by date_ms, id limit 101", [`%${term}%`]),
        ),
      );
      add(
        SCENARIOS.range,
        await latencies(
          months.map(([after, before]) => `after=${iso(after)}&before=${iso(before)}`),
          (range) => fetchBody(`${uncached.url}/v1/?${range}`),
        ),
        await latencies(
          months.map(([after, before]) => `${after}/${before}`),
          (range) => fetchBody(`${rawMysql.url}/range/${range}`),
        ),
      );
    }

    // 2. Bulk writes: the service vs mysql2 writing the same rows (with and without the trigram index).
    const batches = Array.from({ length: 40 }, (_, b) => [...generateRecords(1000, 1000 + b, 0)]);
    const bodies = batches.map((items) => JSON.stringify({ items }));
    const postBatch = (batch: number) =>
      fetch(`${uncached.url}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bodies[batch % bodies.length] }).then((r) => r.arrayBuffer());
    const insertRaw = (table: 'records' | 'records_plain') => async (batch: number) => {
      const values = rowsFor(batches[batch % batches.length] as never);
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        const [result] = await connection.query(`insert into ${table} (title, uri, date_ms, date_raw, title_folded, uri_folded) values ?`, [values]);
        if (table === 'records') {
          const first = (result as { insertId: number }).insertId;
          const entries = values.flatMap((row, i) => trigramsOf(row[4] as string).map((gram) => [gram, first + i]));
          for (let s = 0; s < entries.length; s += 4000) await connection.query('insert into title_trigrams (trigram, record_id) values ?', [entries.slice(s, s + 4000)]);
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
    rows.push(rateRow('bulk JSON, 1,000 records/request, 4 connections', 'mysql2, same rows + index entries', median(bulk.raw), 0.8));
    rows.push(rateRow('the same bulk load vs no search index', 'mysql2, table without index', median(bulk.plain), 0.3));
  } finally {
    await pool.end();
    await stop(cached);
    await stop(uncached);
  }
  report(rows, notes);
}

const SCENARIOS = {
  cacheHit: 'GET /v1/:id, cache hit',
  byId: 'GET /v1/:id, from the database',
  contains: 'search contains (5-digit term), uncached',
  range: 'search, one-month date range, uncached',
  duringLoad: 'GET /v1/:id during a bulk load at half speed',
} as const;

/** Each scenario's baseline, ratio and goal, as the issue states them. */
function judge(name: string, service: Figure, baseline: Figure): Omit<Row, 'scenario' | 'service' | 'baseline'> {
  const throughput = service.rps / baseline.rps;
  const latency = service.p50 / baseline.p50;
  switch (name) {
    case SCENARIOS.cacheHit:
      return { baselineName: 'node:http + ioredis GET', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.90, p99 <= 5 ms', met: throughput >= 0.9 && service.p99 <= 5 };
    case SCENARIOS.byId:
      return { baselineName: 'node:http + mysql2 execute', ratio: throughput, ratioOf: 'req/s', goal: '>= 0.80', met: throughput >= 0.8 };
    case SCENARIOS.contains:
      return { baselineName: 'LIKE scan in MariaDB', ratio: latency, ratioOf: 'p50 latency', goal: 'p50 <= 0.05x, p99 <= 50 ms', met: latency <= 0.05 && service.p99 <= 50 };
    case SCENARIOS.range:
      return { baselineName: 'node:http + the raw indexed SQL', ratio: latency, ratioOf: 'p50 latency', goal: '<= 1.5x', met: latency <= 1.5 };
    case SCENARIOS.duringLoad:
      return { baselineName: 'the same reads at idle', ratio: service.p99 / baseline.p99, ratioOf: 'p99 latency', goal: 'p99 <= 2x', met: service.p99 / baseline.p99 <= 2 };
    default:
      throw new Error(`no goal for ${name}`);
  }
}

/** Prints the table and writes it to bench/results and the README. */
function report(rows: Row[], notes: string[]) {
  const fmt = (figure: Figure) => (figure.p50 === 0 ? `${figure.rps} rows/s` : `${figure.rps} req/s, p50 ${figure.p50.toFixed(1)} ms, p99 ${figure.p99.toFixed(1)} ms`);
  const table = [
    '| scenario | service | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---:|---|---|',
    ...rows.map((row) => `| ${row.scenario} | ${fmt(row.service)} | ${row.baselineName}: ${fmt(row.baseline)} | ${row.ratio.toFixed(2)}x ${row.ratioOf} | ${row.goal} | ${row.met ? 'yes' : 'no'} |`),
  ].join('\n');
  const summary = `Last run ${new Date().toISOString().slice(0, 10)}: ${RECORDS} records in MariaDB 10.11, medians of ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections for autocannon runs of ${SECONDS} s, sequential single-client latencies for searches (${SCAN_SAMPLES} LIKE scans per round). ${notes.join(' ')}\n\n${table}\n\n![ratios](bench/results/latest.svg)\n`;
  console.log(`\n${summary}`);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/latest.json', `${JSON.stringify({ date: new Date().toISOString(), records: RECORDS, rounds: ROUNDS, notes, rows }, null, 2)}\n`);
  writeFileSync('bench/results/latest.md', summary);
  writeFileSync('bench/results/latest.svg', barChart(rows));
  const readme = readFileSync('README.md', 'utf8');
  writeFileSync('README.md', readme.replace(/(<!-- bench:latest -->\n)[\s\S]*?(<!-- \/bench:latest -->)/, `$1${summary}$2`));
}

/** A small SVG bar chart of the ratios (log scale), one bar per scenario. */
function barChart(rows: Row[]): string {
  const width = 760;
  const barHeight = 26;
  const height = rows.length * (barHeight + 12) + 40;
  const x = (ratio: number) => 300 + Math.max(0, Math.min(440, ((Math.log10(ratio) + 2) / 3) * 440));
  const bars = rows
    .map((row, i) => {
      const y = 30 + i * (barHeight + 12);
      const color = row.met ? '#2f855a' : '#c05621';
      return `<text x="292" y="${y + 18}" text-anchor="end" font-size="12">${row.scenario.replace(/&/g, '&amp;')}</text><rect x="300" y="${y}" width="${x(row.ratio) - 300}" height="${barHeight}" fill="${color}"/><text x="${x(row.ratio) + 4}" y="${y + 18}" font-size="12">${row.ratio.toFixed(2)}x ${row.ratioOf}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="300" y="18" font-size="13">service / baseline (log scale; green: goal met)</text>${bars}</svg>\n`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
