/**
 * `make bench`: loads BENCH_RECORDS records (default 100k) into MariaDB through the API, then
 * measures reads with autocannon against two service processes over the same data: one with the
 * Redis cache, one with CACHE=off. Every ratio compares figures measured in this one run.
 *
 * Runs under scripts/with-test-servers (TEST_MYSQL_URL, TEST_REDIS_URL). Environment:
 *   BENCH_RECORDS (100000), BENCH_SECONDS per scenario (5), BENCH_CONNECTIONS (16)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import knex from 'knex';
import { generateRecords } from './generate-records.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const mysqlServer = process.env.TEST_MYSQL_URL;
const redisUrl = process.env.TEST_REDIS_URL;
if (!mysqlServer || !redisUrl) throw new Error('run through `make bench` (scripts/with-test-servers provides MariaDB and Redis)');

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function startService(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['service/dist/main.js', 'serve'], {
    // Auth off: this measures the cache; token verification is the same cost on both sides.
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', AUTH_MODE: 'disabled' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      await fetch(`${url}/v1/?limit=1`);
      return { url, child };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error('service did not start');
}

async function run(command: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['service/dist/main.js', command], { env: { ...process.env, ...env }, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`records ${command} exited ${code}`);
}

type Measure = { rps: number; p50: number; p99: number; errors: number };

async function measure(url: string, paths: string[]): Promise<Measure> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (request) => {
          request.path = paths[next++ % paths.length] as string;
          return request;
        },
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function main() {
  const dbUrl = new URL(mysqlServer as string);
  dbUrl.pathname = '/records_bench';
  const admin = knex({ client: 'mysql2', connection: mysqlServer as string });
  await admin.raw('DROP DATABASE IF EXISTS records_bench');
  await admin.raw('CREATE DATABASE records_bench CHARACTER SET utf8mb4');
  await admin.destroy();
  const database = { DATABASE_URL: dbUrl.toString() };
  await run('migrate', database);

  const cached = await startService({ ...database, REDIS_URL: redisUrl as string, CACHE_KEY_PREFIX: `bench${Date.now()}:` });
  const uncached = await startService({ ...database, CACHE: 'off' });
  try {
    console.log(`loading ${RECORDS} records...`);
    const started = Date.now();
    const all = generateRecords(RECORDS, 42, 0);
    let batch: unknown[] = [];
    let loaded = 0;
    const send = async () => {
      const response = await fetch(`${uncached.url}/v1/bulk`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: batch }),
      });
      const body = (await response.json()) as { inserted: number };
      loaded += body.inserted;
      batch = [];
    };
    for (const record of all) {
      batch.push(record);
      if (batch.length === 1000) await send();
    }
    if (batch.length > 0) await send();
    const loadSeconds = (Date.now() - started) / 1000;
    console.log(`loaded ${loaded} records in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds)} records/s, 1 connection)`);

    const ids = Array.from({ length: 1000 }, (_, i) => `/v1/${1 + Math.floor(((i * 7919) % 1000) * (loaded / 1000))}`);
    const months = Array.from({ length: 24 }, (_, i) => {
      const year = 2000 + Math.floor(i / 12);
      const month = (i % 12) + 1;
      const to = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
      return `/v1/?after=${year}-${String(month).padStart(2, '0')}-01&before=${to}&limit=100`;
    });
    const scenarios = [
      { name: 'GET /v1/:id', paths: ids },
      { name: 'search, one-month range', paths: months },
    ];
    const rows = [];
    for (const scenario of scenarios) {
      await measure(cached.url, scenario.paths); // warm the cache (and both processes' JIT)
      await measure(uncached.url, scenario.paths.slice(0, 10));
      const off = await measure(uncached.url, scenario.paths);
      const on = await measure(cached.url, scenario.paths);
      rows.push({ scenario: scenario.name, uncached: off, cached: on, ratio: on.rps / off.rps });
    }

    const table = [
      '| scenario | uncached req/s | p50 ms | p99 ms | cached req/s | p50 ms | p99 ms | cached / uncached |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (row) =>
          `| ${row.scenario} | ${row.uncached.rps} | ${row.uncached.p50} | ${row.uncached.p99} | ${row.cached.rps} | ${row.cached.p50} | ${row.cached.p99} | ${row.ratio.toFixed(2)}x |`,
      ),
    ].join('\n');
    console.log(`\n${RECORDS} records, ${CONNECTIONS} connections, ${SECONDS} s per scenario\n\n${table}\n`);
    const errors = rows.reduce((sum, row) => sum + row.cached.errors + row.uncached.errors, 0);
    if (errors > 0) console.log(`WARNING: ${errors} failed requests during the benchmark`);
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(
      'bench/results/cache.json',
      `${JSON.stringify({ date: new Date().toISOString(), records: RECORDS, connections: CONNECTIONS, seconds: SECONDS, load: { records: loaded, seconds: loadSeconds }, rows }, null, 2)}\n`,
    );
    const summary = `Last run ${new Date().toISOString().slice(0, 10)}: ${RECORDS} records, ${CONNECTIONS} connections, ${SECONDS} s per scenario.\n\n${table}\n`;
    writeFileSync('bench/results/cache.md', summary);
    const readme = readFileSync('README.md', 'utf8');
    writeFileSync('README.md', readme.replace(/(<!-- bench:cache -->\n)[\s\S]*?(<!-- \/bench:cache -->)/, `$1${summary}$2`));
  } finally {
    cached.child.kill('SIGTERM');
    uncached.child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
