import { spawn } from 'node:child_process';
import { imageNode } from '../image-node.js';
import mysql from 'mysql2/promise';
import { startCollector } from './collector.js';
import { startProcess, type Started } from './harness.js';

/** What make bench measures: the bench database, and the service started six ways against it. */

/** records_bench on the test MariaDB, dropped, created and migrated: the DATABASE_URL of the service. */
export async function createBenchDatabase(mysqlServer: string): Promise<{ DATABASE_URL: string }> {
  const dbUrl = new URL(mysqlServer);
  dbUrl.pathname = '/records_bench';
  const admin = await mysql.createConnection(mysqlServer);
  await admin.query('DROP DATABASE IF EXISTS records_bench');
  await admin.query('CREATE DATABASE records_bench CHARACTER SET utf8mb4');
  await admin.end();
  const database = { DATABASE_URL: dbUrl.toString() };
  const migrate = spawn(process.execPath, ['service/dist/main.js', 'migrate'], { env: { ...process.env, ...database, LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  const code = await new Promise((resolve) => migrate.on('exit', resolve));
  if (code !== 0) throw new Error(`records migrate exited with ${code}`);
  return database;
}

/**
 * The service as the image runs it, cached (Redis under its own key prefix, entries kept for the
 * whole run so that every cache-hit run hits) and uncached; and, for tracing's cost, without the
 * tracing module and with tracing on (every request sampled, to a collector of its own). Each
 * process is listed in `started` as soon as it is spawned.
 */
export async function startServices(database: { DATABASE_URL: string }, redisUrl: string, started: Started) {
  const keyPrefix = `bench${Date.now()}:`;
  const { nodeOptions, nodeFlags, preloads, main } = imageNode();
  const serviceEnv = { ...database, NODE_OPTIONS: nodeOptions };
  // As the image runs it: its node flags, the tracing module preloaded, off without a collector endpoint.
  const entrypoint = [...nodeFlags, ...preloads.flatMap((module) => ['--import', module]), main, 'serve'];
  const withoutTracing = [...nodeFlags, main, 'serve'];
  const start = (args: string[], env: Record<string, string>) => startProcess(args, env, started);
  const cached = await start(entrypoint, { ...serviceEnv, REDIS_URL: redisUrl, CACHE_KEY_PREFIX: keyPrefix, CACHE_TTL_SECONDS: '86400' });
  const uncached = await start(entrypoint, { ...serviceEnv, CACHE: 'off' });
  // Loads that spare reads: the same service preparing writes on its event loop, which also
  // plays a separate writer Deployment's process (bench/reads.ts).
  const inline = await start(entrypoint, { ...serviceEnv, CACHE: 'off', WRITE_WORKERS: '0' });
  // Tracing's cost: the same service without the tracing module, and with tracing on, every request sampled.
  const collector = await startCollector(started);
  // Tracing off is judged between two processes with the same history (neither serves the load):
  // the one that loaded every record has a grown heap and warmer code than a fresh one.
  const preloaded = await start(entrypoint, { ...serviceEnv, CACHE: 'off' });
  const untraced = await start(withoutTracing, { ...serviceEnv, CACHE: 'off' });
  const traced = await start(entrypoint, { ...serviceEnv, CACHE: 'off', OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_TRACES_SAMPLER: 'always_on' });
  return { keyPrefix, cached, uncached, inline, preloaded, untraced, traced };
}
