import type { Rejection } from '../domain/bulk-items.js';
import type { FieldError } from '../domain/errors.js';
import type { NewRecord } from '../domain/record.js';

/** The messages between data/preparer-pool.ts and its workers (data/preparer-worker.ts). */

/**
 * A request to a worker; `call` 0 expects no answer. `read` and `release` (a document's records
 * held on the worker) belong to no session; `held` counts what the worker holds (tests).
 */
export type PreparerRequest = {
  call: number;
  session: number;
  op: 'open' | 'records' | 'inserted' | 'finish' | 'close' | 'read' | 'release' | 'held';
  arg?: unknown;
};

/** A worker's answer to a call: its result, or the error it raised (cloned with its stack). */
export type PreparerAnswer = { call: number; result?: unknown; error?: Error };

/** A session's records: sent along, or a part of those the worker holds. */
export type RecordsArgument = NewRecord[] | { held: number; start: number; end: number };

/**
 * The result of `read`: where the accepted records are held (0: none were accepted) and why the
 * others were rejected, or why the whole document was refused (the domain error, by name, as
 * errors lose their class between threads).
 */
export type ReadResult =
  | { held: number; count: number; rejected: Rejection[] }
  | { refused: { name: 'InvalidInput' | 'TooManyItems'; detail: string; errors: FieldError[] } };
