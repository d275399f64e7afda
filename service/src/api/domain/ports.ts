import type { Rejection } from './bulk-items.js';
import type { Position } from './cursor.js';
import type { NewRecord, StoredRecord } from './record.js';
import type { SearchQuery } from './search-query.js';
import type { StreamOptions, StreamStep } from './stream-items.js';

/**
 * What the domain needs from the outside, in its own terms. data/ and cache/ implement these and
 * import the domain; the domain never imports them (make lint enforces the direction). Every
 * implementation raises Unavailable when its store fails, so callers see one outage error.
 */

/** A response remembered for an Idempotency-Key, to be replayed to a retry of the same request. */
export type RememberedResponse = { scope: string; key: string; requestHash: string; response: string; expiresAtMs: number };

/**
 * Records accepted from a document and kept where it was read (a worker thread), so the thread
 * serving requests never builds them; a transaction of the same reader's store inserts them.
 * `release` frees them once no transaction will (after it committed, or instead of one).
 */
export type HeldRecords = { readonly count: number; release(): void };

/** Records to insert: in hand, or held by the reader that read them. */
export type RecordBatch = NewRecord[] | HeldRecords;

export const batchLength = (batch: RecordBatch): number => (Array.isArray(batch) ? batch.length : batch.count);

/**
 * One NDJSON stream's reader (domain/stream-items.ts `createStreamItems`): chunks in, in order,
 * one call at a time; each batch handed over belongs to the caller, who releases it. `close`
 * drops what the reader still keeps (the stream ended or failed).
 */
export type StreamReader = {
  push(chunk: Uint8Array): Promise<StreamStep<RecordBatch>>;
  end(): Promise<StreamStep<RecordBatch>>;
  close(): void;
};

/**
 * Reads a `{"items": [...]}` document (domain/bulk-items.ts `readItemsDocument`) or an NDJSON
 * stream, maybe off the event loop. `declaredBytes`: the stream's length when the client declared
 * it (null when it did not), so that a small one can be read where it arrives.
 */
export type ItemsReader = {
  read(document: Uint8Array): Promise<{ accepted: RecordBatch; rejected: Rejection[] }>;
  stream(options: StreamOptions, declaredBytes: number | null): StreamReader;
};

/** Frees a batch's held records, if it has any. */
export const releaseBatch = (batch: RecordBatch): void => {
  if (!Array.isArray(batch)) batch.release();
};

/** What one write transaction can do. Nothing is kept unless the transaction's work resolves. */
export type WriteTransaction = {
  /** Stores a batch of records (and their search entries) and returns their ids in order; one call at a time. */
  insert(records: RecordBatch): Promise<number[]>;
  /**
   * Remembers the response, taking over a row of the same key expired at `nowMs`; throws
   * IdempotencyKeyTaken when another request committed the key first.
   */
  remember(entry: RememberedResponse, nowMs: number): Promise<void>;
};

export type RecordsStore = {
  /** Runs `work` in one transaction; errors `work` raises roll it back and pass through unchanged. */
  inTransaction<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T>;
  findById(id: number): Promise<StoredRecord | null>;
};

/** One page of a search, and where the next one starts. */
export type SearchPage = { records: StoredRecord[]; next: Position | null };

/**
 * Answers searches exactly as a scan of every record would, choosing its own plan, within its time
 * limit (SearchTooBroad past it). An aborted `signal` (the caller went away) stops the search.
 */
export type SearchIndex = {
  search(query: SearchQuery, signal?: AbortSignal): Promise<SearchPage>;
};

export type IdempotencyStore = {
  /** The unexpired response remembered for (scope, key), if any. */
  find(scope: string, key: string, nowMs: number): Promise<RememberedResponse | null>;
  /** As `find`, once a write holding the key has committed or rolled back (waits for it). */
  findAfterWriter(scope: string, key: string, nowMs: number): Promise<RememberedResponse | null>;
};

