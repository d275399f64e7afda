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

/** A measurement: requests per second and latencies (ms); `samples` when they were timed one by one. */
export type Figure = { rps: number; p50: number; p99: number; samples?: number };

/**
 * Bulk writes prepared for a timed run: `write(batch)` sends batch 0, 1, ... (1,000 records each)
 * of `count`, and `done(written)` is told how many were sent once the run is over (exact when the
 * run succeeded; a failed run fails the bench).
 */
export type BatchWriter = { count: number; write(batch: number): Promise<unknown>; done(written: number): void };

/**
 * Runs `runs` one after another: in order in odd rounds, reversed in even ones, since back-to-back
 * runs favour whichever goes second (warmer caches, a quieter machine). Results in the given order.
 */
export async function alternating<T extends unknown[]>(round: number, runs: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const order = runs.map((_, i) => i);
  if (round % 2 === 0) order.reverse();
  const results: unknown[] = new Array(runs.length);
  for (const i of order) results[i] = await (runs[i] as () => Promise<unknown>)();
  return results as T;
}

/** Batches enough for BENCH_SECONDS of writes at `rowsPerSecond` (first guess: 100,000), with a margin. */
export const batchesLasting = (rowsPerSecond = 100_000) => Math.ceil((rowsPerSecond * SECONDS * 1.25) / 1000);

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
export const medianFigure = (figures: Figure[]): Figure => ({
  rps: median(figures.map((f) => f.rps)),
  p50: median(figures.map((f) => f.p50)),
  p99: median(figures.map((f) => f.p99)),
  ...(figures[0]?.samples === undefined ? {} : { samples: Math.min(...figures.map((f) => f.samples ?? 0)) }),
});
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

export async function waitUntilUp(url: string) {
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

/** What a run has started, to be stopped whatever ends it. */
export type Started = Array<{ stop(): Promise<void> }>;

/**
 * Starts a server on a free port, listed in `started` as soon as it is spawned. The service logs
 * at its production level (info: a line per request) to a file, as a container's stdout ends up
 * in one; the cost of the request log is part of what is measured.
 */
export async function startProcess(args: string[], env: Record<string, string>, started: Started): Promise<{ url: string; child: ChildProcess; logFile: string }> {
  const port = await freePort();
  const logFile = join(tmpdir(), `records-bench-${port}.log`);
  const log = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, {
    // The load generator is one caller standing for many: the per-caller search bound stays out of the way.
    env: { ...process.env, SEARCHES_PER_CALLER: '1000', ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', AUTH_MODE: 'disabled' },
    stdio: ['ignore', log, 'inherit'],
  });
  closeSync(log);
  const process_ = { url: `http://127.0.0.1:${port}`, child, logFile };
  started.push({ stop: () => stop(process_) });
  await waitUntilUp(`${process_.url}/healthz`);
  return process_;
}

async function stop(process_: { child: ChildProcess; logFile: string }) {
  await stopChild(process_.child);
  rmSync(process_.logFile, { force: true });
}

/** Stops a child with SIGTERM and waits for its exit; one that has already exited is left as it is. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * autocannon over a list of paths, cycling through them, as fast as BENCH_CONNECTIONS allow, for
 * `seconds` (BENCH_SECONDS). A run with a failed request is an error: its figure would count failures
 * (often fast) as work.
 */
export async function load(url: string, paths: string[], seconds = SECONDS): Promise<Figure> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] as string }) }],
  });
  const failed = result.errors + result.timeouts + result.non2xx;
  if (failed > 0) throw new Error(`${failed} of ${result.requests.total} requests against ${url} failed (${result.non2xx} not 2xx, ${result.errors} errors, ${result.timeouts} timeouts)`);
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
  if (failed > 0) throw new Error(`${failed} of ${times.length} paced reads against ${url} failed`);
  return { rps: Math.round(times.length / ((performance.now() - started) / 1000)), p50: percentile(times, 0.5), p99: percentile(times, 0.99), samples: times.length };
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
  return { rps: Math.round(inputs.length / ((performance.now() - started) / 1000)), p50: percentile(times, 0.5), p99: percentile(times, 0.99), samples: times.length };
}

/**
 * Sends `writer`'s batches from 4 concurrent writers, batch after batch, for BENCH_SECONDS or until
 * its batches run out (size them with `batchesLasting`); rows per second.
 */
export async function fourWriters(writer: BatchWriter): Promise<number> {
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let next = 0;
  let failure: unknown;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      // A failed write stops every writer: the run fails, and nothing is sent after it.
      while (failure === undefined && next < writer.count && performance.now() < until) {
        await writer.write(next++).catch((error: unknown) => void (failure ??= error));
      }
    }),
  );
  writer.done(next);
  if (failure !== undefined) throw failure;
  return (next * 1000) / ((performance.now() - started) / 1000);
}

/** The batches `pacedWriter` sends in `ms` at `rowsPerSecond`. */
export const pacedBatches = (ms: number, rowsPerSecond: number) => Math.ceil(ms / (1_000_000 / rowsPerSecond));

/**
 * Sends `writer`'s 1,000-record batches at `rowsPerSecond` (at most 4 in flight) for `ms` (it needs
 * `pacedBatches(ms, rowsPerSecond)` of them); the rows/s reached. A paced writer, unlike
 * `fourWriters`, leaves headroom: this is a load running next to reads.
 */
export async function pacedWriter(ms: number, rowsPerSecond: number, writer: BatchWriter): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let failure: unknown;
  let started: number;
  try {
    started = await onSchedule(ms, 1_000_000 / rowsPerSecond, async (k) => {
      if (failure) throw failure;
      if (k >= writer.count) throw new Error(`the paced writer has ${writer.count} batches and needs more`);
      if (inFlight.size >= 4) await Promise.race(inFlight);
      const request = writer.write(k).then(
        () => void (sent += 1),
        (error: unknown) => void (failure ??= error),
      );
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    });
  } finally {
    await Promise.all(inFlight);
    writer.done(sent);
  }
  if (failure) throw failure;
  return (sent * 1000) / ((performance.now() - started) / 1000);
}
