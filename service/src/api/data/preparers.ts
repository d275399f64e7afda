import type { NewRecord } from '../domain/record.js';
import { createBatchPreparer, type PreparerOptions } from './batch-preparer.js';
import type { IndexFlush } from './index-writer.js';
import type { PreparedInsert } from './insert-rows.js';

/** A write transaction's batch preparer (data/batch-preparer.ts), wherever it runs. */
export type PreparerSession = {
  records(records: NewRecord[]): Promise<PreparedInsert>;
  inserted(firstId: number): Promise<PreparedInsert[]>;
  finish(): Promise<IndexFlush>;
  /** Drops the session's state (after `finish`, or when the transaction failed). */
  close(): void;
};

export type Preparers = {
  /** Settles once the preparers can take work (rejects when they cannot start). */
  ready: Promise<void>;
  open(options: PreparerOptions): PreparerSession;
  close(): Promise<void>;
};

/** Preparers on the calling thread: tests and WRITE_WORKERS=0. */
export function inlinePreparers(): Preparers {
  return {
    ready: Promise.resolve(),
    open(options) {
      const preparer = createBatchPreparer(options);
      return {
        records: async (records) => preparer.records(records),
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
 * request's, or one that only remembers an Idempotency-Key's response) asks no worker for anything.
 */
export function lazySession(open: () => PreparerSession): PreparerSession {
  let session: PreparerSession | null = null;
  const opened = () => (session ??= open());
  return {
    records: (records) => opened().records(records),
    inserted: (firstId) => opened().inserted(firstId),
    finish: async () => (session ? session.finish() : { inserts: [], fragmentRecords: 0 }),
    close: () => session?.close(),
  };
}
