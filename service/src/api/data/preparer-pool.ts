import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Preparers, PreparerSession } from './preparers.js';

/** A message to a worker; `call` 0 expects no answer. */
export type PreparerRequest = { call: number; session: number; op: 'open' | 'records' | 'inserted' | 'finish' | 'close'; arg?: unknown };
type Answer = { call: number; result?: unknown; error?: string };

type Slot = { worker: Worker; dead: boolean; sessions: number; pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }> };

// The worker is this module's sibling, compiled (.js) or run from source under tsx (.ts).
const WORKER_URL = new URL(`./preparer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Write transactions' CPU work (folding titles, formatting INSERTs, building posting rows) on
 * `size` worker threads, off the event loop that serves reads. Each transaction's session stays
 * on one worker (the least busy when it opens), which keeps its posting groups; the database
 * work stays on the main thread, in the transaction. A worker that dies fails the writes it was
 * preparing (their transactions roll back) and is replaced. `workerUrl`: tests give a worker that fails.
 */
export function createPreparerPool({ size, logger, workerUrl = WORKER_URL }: { size: number; logger: Logger; workerUrl?: URL }): Preparers {
  let nextCall = 1;
  let nextSession = 1;
  let closed = false;
  const slots: Slot[] = [];

  function start(index: number): Slot {
    const slot: Slot = { worker: new Worker(workerUrl), dead: false, sessions: 0, pending: new Map() };
    // Idle workers do not keep a finishing program alive; close() ends them at shutdown.
    slot.worker.unref();
    const fail = (error: Error) => {
      for (const { reject } of slot.pending.values()) reject(error);
      slot.pending.clear();
    };
    slot.worker.on('message', ({ call, result, error }: Answer) => {
      const waiting = slot.pending.get(call);
      slot.pending.delete(call);
      if (error === undefined) waiting?.resolve(result);
      else waiting?.reject(new Error(error));
    });
    slot.worker.on('error', (error) => {
      logger.error({ err: error }, 'a write preparer worker failed');
      fail(error);
    });
    slot.worker.on('exit', (code) => {
      slot.dead = true;
      fail(new Error(`write preparer worker exited (${code})`));
      if (!closed) slots[index] = start(index);
    });
    return slot;
  }
  for (let index = 0; index < size; index += 1) slots.push(start(index));

  return {
    open(options): PreparerSession {
      const slot = slots.reduce((least, candidate) => (candidate.sessions < least.sessions ? candidate : least));
      const session = nextSession++;
      slot.sessions += 1;
      let open = true;
      slot.worker.postMessage({ call: 0, session, op: 'open', arg: options } satisfies PreparerRequest);
      const ask = <T>(op: PreparerRequest['op'], arg?: unknown) =>
        new Promise<T>((resolve, reject) => {
          if (slot.dead) return reject(new Error('write preparer worker exited'));
          const call = nextCall++;
          slot.pending.set(call, { resolve: resolve as (value: unknown) => void, reject });
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
          slot.worker.postMessage({ call: 0, session, op: 'close' } satisfies PreparerRequest);
        },
      };
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
