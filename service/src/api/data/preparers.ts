import { inlineItemsReader } from '../domain/inline-reader.js';
import type { HeldRecords, ItemsReader } from '../domain/ports.js';
import type { NewRecord } from '../domain/record.js';
import { createBatchPreparer, type PreparerOptions } from './batch-preparer.js';
import type { IndexFlush } from './index-writer.js';
import type { PreparedInsert } from './insert-rows.js';

/** Part of a document's records held by the preparers that read it (`Preparers.read`). */
export type HeldPart = { held: HeldRecords; start: number; end: number };

/** A write transaction's batch preparer (data/batch-preparer.ts), wherever it runs. */
export type PreparerSession = {
  records(records: NewRecord[] | HeldPart): Promise<PreparedInsert>;
  inserted(firstId: number): Promise<PreparedInsert[]>;
  finish(): Promise<IndexFlush>;
  /** Drops the session's state (after `finish`, or when the transaction failed). */
  close(): void;
};

/**
 * Where writes' CPU work runs: reading documents and streams (whose accepted records may stay
 * there, held) and each transaction's session. A session that inserts held records is opened `near` them.
 */
export type Preparers = ItemsReader & {
  /** Settles once the preparers can take work (rejects when they cannot start). */
  ready: Promise<void>;
  open(options: PreparerOptions, near?: HeldRecords): PreparerSession;
  close(): Promise<void>;
};

/** Preparers on the calling thread: tests and WRITE_WORKERS=0. Its reads and streams hold nothing. */
export function inlinePreparers(): Preparers {
  return {
    ready: Promise.resolve(),
    ...inlineItemsReader,
    open(options) {
      const preparer = createBatchPreparer(options);
      return {
        records: async (records) => {
          if (!Array.isArray(records)) throw new Error('records held by a worker pool reach only its own sessions');
          return preparer.records(records);
        },
        inserted: async (firstId) => preparer.inserted(firstId),
        finish: async () => preparer.finish(),
        close: () => {},
      };
    },
    close: async () => {},
  };
}

/**
 * A session opened on its first use: a transaction that writes no records (an all-rejected
 * request's, or one that only remembers an Idempotency-Key's response) asks no worker for
 * anything. Opened for held records, it opens where they are held.
 */
export function lazySession(open: (near?: HeldRecords) => PreparerSession): PreparerSession {
  let session: PreparerSession | null = null;
  const opened = (near?: HeldRecords) => (session ??= open(near));
  return {
    records: (records) => opened(Array.isArray(records) ? undefined : records.held).records(records),
    inserted: (firstId) => opened().inserted(firstId),
    finish: async () => (session ? session.finish() : { inserts: [], fragmentRecords: 0 }),
    close: () => session?.close(),
  };
}
