import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { inlineItemsReader } from '../domain/inline-reader.js';
import { InvalidInput, TooManyItems, Unavailable } from '../domain/errors.js';
import type { HeldRecords, StreamReader } from '../domain/ports.js';
import type { PreparerAnswer, PreparerRequest, ReadResult, RecordsArgument, StreamArgument, StreamStepResult } from './preparer-protocol.js';
import type { Preparers, PreparerSession } from './preparers.js';

type Waiting = { resolve(value: unknown): void; reject(error: Error): void };
/** `bodies`: documents being read, open streams and records held, which bring their sessions with them. */
type Slot = { worker: Worker; dead: boolean; sessions: number; bodies: number; pending: Map<number, Waiting> };

// The worker is this module's sibling, compiled (.js) or run from source under tsx (.ts).
const WORKER_URL = new URL(`./preparer-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
/** A worker that keeps dying is started again after a delay that doubles up to this. */
const MAX_RESTART_DELAY_MS = 30_000;
/**
 * Documents from this size on (about 250 to 300 items) are read on a worker, and so are NDJSON
 * streams, unless they declare a smaller length; smaller ones, which
 * hold the event loop for about a millisecond at most (a few on busy cores; extrapolated from
 * 1,000-item documents), on the calling thread, where a small write skips the hand-off. With the
 * workers at nice 10, 1,000-item documents read on a worker lowered reads' p99 next to a load in
 * 6 of 6 alternated rounds (docs/performance.md, "Run Q"); at nice 0 they had raised it, and the
 * threshold was 256 KiB.
 */
export const READ_ON_WORKER_FROM_BYTES = 32 * 1024;

/** Records held on the worker that read them (a document's accepted records, a stream's batch) until released. */
class RecordsOnWorker implements HeldRecords {
  #released = false;
  constructor(
    readonly count: number,
    readonly slot: Slot,
    readonly id: number,
  ) {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.slot.bodies -= 1;
    if (!this.slot.dead) this.slot.worker.postMessage({ call: 0, session: 0, op: 'release', arg: this.id } satisfies PreparerRequest);
  }
}

function refusal({ name, detail, errors }: Extract<ReadResult, { refused: unknown }>['refused']): Error {
  return name === 'TooManyItems' ? new TooManyItems(detail, errors) : new InvalidInput(detail, errors);
}

/**
 * Writes' CPU work on `size` worker threads, off the event loop that serves reads: reading large
 * `{"items": [...]}` documents and NDJSON streams (splitting, decoding, parsing, validating;
 * the accepted records stay on the worker, held, so the main thread neither builds nor copies
 * them), and each write transaction's
 * folding of titles, INSERTs and posting rows. Each transaction's session stays on one worker (the
 * one holding its records, or the least busy when it opens), which keeps its posting groups; the
 * database work stays on the main thread, in the transaction. A worker that dies fails the writes it was
 * preparing (their transactions roll back) and is replaced, at once the first time and then
 * after a growing delay while it keeps dying without answering. `ready` settles once every worker
 * has started (start-up fails on a worker that cannot). `workerUrl`: tests give one that fails;
 * `readOnWorkerFrom`: the size in bytes from which a document, or a stream of declared length, is
 * read on a worker.
 */
export function createPreparerPool({
  size,
  nice = 0,
  logger,
  workerUrl = WORKER_URL,
  readOnWorkerFrom = READ_ON_WORKER_FROM_BYTES,
}: {
  size: number;
  /** The workers' CPU priority (0-19, higher yields more): the event loop serving reads goes first. */
  nice?: number;
  logger: Logger;
  workerUrl?: URL;
  readOnWorkerFrom?: number;
}): Preparers & { held(): Promise<number> } {
  let nextCall = 1;
  let nextSession = 1;
  let nextStream = 1;
  let closed = false;
  let failures = 0;
  const slots: Slot[] = [];

  function start(index: number): Slot {
    const slot: Slot = { worker: new Worker(workerUrl, { workerData: { nice } }), dead: false, sessions: 0, bodies: 0, pending: new Map() };
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

  const ask = <T>(slot: Slot, session: number, op: PreparerRequest['op'], arg?: unknown) =>
    new Promise<T>((resolve, reject) => {
      if (slot.dead) return reject(new Error('write preparer worker exited'));
      const call = nextCall++;
      slot.pending.set(call, { resolve: resolve as (value: unknown) => void, reject });
      slot.worker.ref();
      slot.worker.postMessage({ call, session, op, arg } satisfies PreparerRequest);
    });
  /** A read of a request's body: a worker that died is an outage, retried by the client; an error the worker answered is a bug (500). */
  const askToRead = async <T>(slot: Slot, op: PreparerRequest['op'], arg: unknown, what: string): Promise<T> => {
    try {
      return await ask<T>(slot, 0, op, arg);
    } catch (error) {
      if (slot.dead) throw new Unavailable(`The ${what} could not be read; nothing was changed.`, [], {}, { cause: error });
      throw error;
    }
  };
  // A dead worker waiting to be replaced has no sessions, but would fail any work it were given.
  // A document or stream being read, or records held, counts as the session that will insert
  // them: two large posts at once are read, and written, on two workers.
  const leastBusy = (): Slot => {
    const live = slots.filter((candidate) => !candidate.dead);
    const load = (slot: Slot) => slot.sessions + slot.bodies;
    return (live.length > 0 ? live : slots).reduce((least, candidate) => (load(candidate) < load(least) ? candidate : least));
  };

  return {
    ready,
    async read(document) {
      if (document.length < readOnWorkerFrom) return inlineItemsReader.read(document);
      const slot = leastBusy();
      slot.bodies += 1;
      let result: ReadResult;
      try {
        result = await askToRead<ReadResult>(slot, 'read', document, 'body');
      } catch (error) {
        slot.bodies -= 1;
        throw error;
      }
      if ('refused' in result || result.held === 0) slot.bodies -= 1;
      if ('refused' in result) throw refusal(result.refused);
      return { accepted: result.held === 0 ? [] : new RecordsOnWorker(result.count, slot, result.held), rejected: result.rejected };
    },
    stream(options, declaredBytes): StreamReader {
      // Declared small, as a small document is: read where it arrives (a stream of unknown length is not).
      if (declaredBytes !== null && declaredBytes < readOnWorkerFrom) return inlineItemsReader.stream(options, declaredBytes);
      // One worker reads the whole stream, so its batches are held where their session will open.
      const slot = leastBusy();
      const stream = nextStream++;
      slot.bodies += 1;
      let open = true;
      slot.worker.postMessage({ call: 0, session: 0, op: 'stream-open', arg: { stream, options } satisfies StreamArgument } satisfies PreparerRequest);
      const step = async (op: 'stream-push' | 'stream-end', arg: StreamArgument) => {
        const result = await askToRead<StreamStepResult>(slot, op, arg, 'stream');
        slot.bodies += result.batches.length;
        return { ...result, batches: result.batches.map(({ held, count }) => new RecordsOnWorker(count, slot, held)) };
      };
      return {
        // A view of part of a larger buffer (a socket read's, Node's pool) would be copied whole: only its own bytes are sent.
        push: (chunk) => step('stream-push', { stream, chunk: chunk.byteLength === chunk.buffer.byteLength ? chunk : Uint8Array.prototype.slice.call(chunk) }),
        end: () => step('stream-end', { stream }),
        close() {
          if (!open) return;
          open = false;
          slot.bodies -= 1;
          if (!slot.dead) slot.worker.postMessage({ call: 0, session: 0, op: 'stream-close', arg: { stream } satisfies StreamArgument } satisfies PreparerRequest);
        },
      };
    },
    open(options, near): PreparerSession {
      const slot = near instanceof RecordsOnWorker ? near.slot : leastBusy();
      const session = nextSession++;
      slot.sessions += 1;
      let open = true;
      slot.worker.postMessage({ call: 0, session, op: 'open', arg: options } satisfies PreparerRequest);
      const argument = (records: Parameters<PreparerSession['records']>[0]): RecordsArgument => {
        if (Array.isArray(records)) return records;
        const { held, start, end } = records;
        if (!(held instanceof RecordsOnWorker) || held.slot !== slot) throw new Error("records held elsewhere than this session's worker");
        return { held: held.id, start, end };
      };
      return {
        records: async (records) => ask(slot, session, 'records', argument(records)),
        inserted: (firstId) => ask(slot, session, 'inserted', firstId),
        finish: () => ask(slot, session, 'finish'),
        close() {
          if (!open) return;
          open = false;
          slot.sessions -= 1;
          if (!slot.dead) slot.worker.postMessage({ call: 0, session, op: 'close' } satisfies PreparerRequest);
        },
      };
    },
    /** How many documents' and batches' records, and open streams, the live workers hold (tests: every one is released). */
    async held() {
      const counts = await Promise.all(slots.filter((slot) => !slot.dead).map((slot) => ask<number>(slot, 0, 'held')));
      return counts.reduce((sum, count) => sum + count, 0);
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((slot) => slot.worker.terminate()));
    },
  };
}
