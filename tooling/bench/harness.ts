import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, get } from 'node:http';
import { closeSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { SETTINGS } from './settings.js';

/** Processes, load generators and statistics for make bench: measuring, not judging. */

const { connections: CONNECTIONS, seconds: SECONDS } = SETTINGS;

export type Figure = { rps: number; p50: number; p99: number };

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
export const medianFigure = (figures: Figure[]): Figure => ({
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

/**
 * Starts a server on a free port. The service logs at its production level (info: a line per
 * request) to a file, as a container's stdout ends up in one; the cost of the request log is
 * part of what is measured.
 */
export async function startProcess(args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess; logFile: string }> {
  const port = await freePort();
  const logFile = join(tmpdir(), `records-bench-${port}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    // The load generator is one caller standing for many: the per-caller search bound stays out of the way.
    env: { ...process.env, SEARCHES_PER_CALLER: '1000', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', AUTH_MODE: 'disabled' },
    stdio: ['ignore', log, 'inherit'],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${url}/healthz`);
  return { url, child, logFile };
}

export async function stop(process_: { child: ChildProcess; logFile: string }) {
  const exited = new Promise((resolve) => process_.child.once('exit', resolve));
  process_.child.kill('SIGTERM');
  await exited;
  rmSync(process_.logFile, { force: true });
}

/** autocannon over a list of paths, cycling through them, as fast as BENCH_CONNECTIONS allow. */
export async function load(url: string, paths: string[]): Promise<Figure> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] as string }) }],
  });
  if (result.errors + result.non2xx > 0) console.warn(`  ${result.errors + result.non2xx} failed requests against ${url}`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

/**
 * Calls `each(k, due)` for k = 0, 1, ... at due = start + k * `intervalMs`, for `ms`; a call that
 * waits (returns a promise) holds back the next. Timers fire no finer than a millisecond: a call
 * due sooner runs at once, and keeps its due time. Returns the start.
 */
async function onSchedule(ms: number, intervalMs: number, each: (k: number, due: number) => unknown): Promise<number> {
  const started = performance.now();
  for (let k = 0; k * intervalMs < ms; k += 1) {
    const due = started + k * intervalMs;
    const wait = due - performance.now();
    if (wait >= 1) await sleep(wait);
    await each(k, due);
  }
  return started;
}

/** Keep-alive connections paced reads use at most. */
const PACED_CONNECTIONS = 32;

/**
 * GETs of `paths` at a fixed rate for `seconds` (BENCH_SECONDS), as many independent clients
 * would send them: each timed from when it was due, not from when a connection was free, so a
 * stall of the server counts for every request it held back (which a closed-loop client leaves
 * out), over up to PACED_CONNECTIONS keep-alive connections (enough that the client's own cap is
 * not what queues requests). Latencies are kept to the microsecond (autocannon's are whole
 * milliseconds, too coarse for a p99 of a few ms). Run by `pacedReader`, in a process of its own.
 */
export async function pacedReads(url: string, paths: string[], { rate, seconds = SECONDS }: { rate: number; seconds?: number }): Promise<Figure> {
  const agent = new Agent({ keepAlive: true, maxSockets: PACED_CONNECTIONS });
  const times: number[] = [];
  let failed = 0;
  const fetchOne = (path: string) =>
    new Promise<void>((resolve) => {
      get(`${url}${path}`, { agent }, (response) => {
        if (response.statusCode !== 200) failed += 1;
        response.resume().on('end', resolve);
      }).on('error', () => {
        failed += 1;
        resolve();
      });
    });
  const requests: Array<Promise<void>> = [];
  const started = await onSchedule(seconds * 1000, 1000 / rate, (k, due) => {
    requests.push(fetchOne(paths[k % paths.length] as string).then(() => void times.push(performance.now() - due)));
  });
  await Promise.all(requests);
  agent.destroy();
  if (failed > 0) console.warn(`  ${failed} failed requests against ${url}`);
  return { rps: Math.round(times.length / ((performance.now() - started) / 1000)), p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/**
 * `pacedReads` in a process of its own (bench/paced-reader.ts), so that nothing else the bench
 * process does (the load's writer above all) can delay a read or its timing. Resolves once that
 * process has started; `run()` measures from then on.
 */
export async function pacedReader(url: string, paths: string[], rate: number): Promise<{ run(): Promise<Figure> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tooling/bench/paced-reader.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the paced reader exited early');
    return value;
  };
  child.stdin.write(`${JSON.stringify({ url, paths, rate })}\n`);
  if ((await next()) !== 'ready') throw new Error('the paced reader did not start');
  return {
    async run() {
      child.stdin.end('go\n');
      return JSON.parse(await next()) as Figure;
    },
  };
}

/** Sequential latencies of `work` over `inputs`: one at a time, as a single client sees them. */
export async function latencies(inputs: string[], work: (input: string) => Promise<unknown>): Promise<Figure> {
  const times: number[] = [];
  const started = performance.now();
  for (const input of inputs) {
    const t = performance.now();
    await work(input);
    times.push(performance.now() - t);
  }
  return { rps: Math.round(inputs.length / ((performance.now() - started) / 1000)), p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/**
 * Runs `write(batch)` from 4 concurrent writers, batch after batch, for at least BENCH_SECONDS (and
 * at least `minBatches`), so fast and slow writers are both timed over seconds; rows per second.
 */
export async function fourWriters(minBatches: number, write: (batch: number) => Promise<unknown>): Promise<number> {
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
export async function pacedWriter(ms: number, rowsPerSecond: number, write: (batch: number) => Promise<unknown>): Promise<number> {
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  const started = await onSchedule(ms, 1_000_000 / rowsPerSecond, async (k) => {
    if (inFlight.size >= 4) await Promise.race(inFlight);
    const request = write(k).then(() => (sent += 1000));
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  });
  await Promise.all(inFlight);
  return sent / ((performance.now() - started) / 1000);
}
