import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PreparerAnswer, PreparerRequest } from './preparer-protocol.js';
import type { Preparers, PreparerSession } from './preparers.js';

type Waiting = { resolve(value: unknown): void; reject(error: Error): void };
type Slot = { worker: Worker; dead: boolean; sessions: number; pending: Map<number, Waiting> };

// The worker is this module's sibling, compiled (.js) or run from source under tsx (.ts).
const WORKER_URL = new URL(`./preparer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/** A worker that keeps dying is started again after a delay that doubles up to this. */
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * Write transactions' CPU work (folding titles, formatting INSERTs, building posting rows) on
 * `size` worker threads, off the event loop that serves reads. Each transaction's session stays
 * on one worker (the least busy when it opens), which keeps its posting groups; the database
 * work stays on the main thread, in the transaction. A worker that dies fails the writes it was
 * preparing (their transactions roll back) and is replaced, at once the first time and then
 * after a growing delay while it keeps dying without answering. `ready` settles once every worker
 * has started (start-up fails on a worker that cannot). `workerUrl`: tests give one that fails.
 */
export function createPreparerPool({ size, logger, workerUrl = WORKER_URL }: { size: number; logger: Logger; workerUrl?: URL }): Preparers {
  let nextCall = 1;
  let nextSession = 1;
  let closed = false;
  let failures = 0;
  const slots: Slot[] = [];

  function start(index: number): Slot {
    const slot: Slot = { worker: new Worker(workerUrl), dead: false, sessions: 0, pending: new Map() };
    // An idle worker does not keep a finishing program alive; one with calls pending does.
    slot.worker.unref();
    const fail = (error: Error) => {
      for (const { reject } of slot.pending.values()) reject(error);
      slot.pending.clear();
      slot.worker.unref();
    };
    slot.worker.on('message', ({ call, result, error }: PreparerAnswer) => {
      failures = 0;
      const waiting = slot.pending.get(call);
      slot.pending.delete(call);
      if (slot.pending.size === 0) slot.worker.unref();
      if (error === undefined) waiting?.resolve(result);
      else waiting?.reject(error);
    });
    slot.worker.on('error', (error) => {
      logger.error({ err: error }, 'a write preparer worker failed');
      fail(error);
    });
    slot.worker.on('exit', (code) => {
      slot.dead = true;
      fail(new Error(`write preparer worker exited (${code})`));
      if (closed) return;
      const delay = failures === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 100 * 2 ** failures);
      failures += 1;
      setTimeout(() => {
        if (!closed) slots[index] = start(index);
      }, delay).unref();
    });
    return slot;
  }
  for (let index = 0; index < size; index += 1) slots.push(start(index));
  const ready = Promise.all(slots.map((slot) => once(slot.worker, 'online'))).then(() => undefined);
  // Whoever awaits `ready` hears of a failure; nobody else has to.
  ready.catch(() => {});

  return {
    ready,
    open(options): PreparerSession {
      // A dead worker waiting to be replaced has no sessions, but would fail any it were given.
      const live = slots.filter((candidate) => !candidate.dead);
      const slot = (live.length > 0 ? live : slots).reduce((least, candidate) => (candidate.sessions < least.sessions ? candidate : least));
      const session = nextSession++;
      slot.sessions += 1;
      let open = true;
      slot.worker.postMessage({ call: 0, session, op: 'open', arg: options } satisfies PreparerRequest);
      const ask = <T>(op: PreparerRequest['op'], arg?: unknown) =>
        new Promise<T>((resolve, reject) => {
          if (slot.dead) return reject(new Error('write preparer worker exited'));
          const call = nextCall++;
          slot.pending.set(call, { resolve: resolve as (value: unknown) => void, reject });
          slot.worker.ref();
          slot.worker.postMessage({ call, session, op, arg } satisfies PreparerRequest);
        });
      return {
        records: (records) => ask('records', records),
        inserted: (firstId) => ask('inserted', firstId),
        finish: () => ask('finish'),
        close() {
          if (!open) return;
          open = false;
          slot.sessions -= 1;
          if (!slot.dead) slot.worker.postMessage({ call: 0, session, op: 'close' } satisfies PreparerRequest);
        },
      };
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
