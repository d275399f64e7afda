import type { Rejection } from '../domain/bulk-items.js';
import type { FieldError } from '../domain/errors.js';
import type { NewRecord } from '../domain/record.js';
import type { StreamOptions, StreamStep } from '../domain/stream-items.js';

/** The messages between data/preparer-pool.ts and its workers (data/preparer-worker.ts). */

/**
 * A request to a worker; `call` 0 expects no answer. `read`, `release` (records held on the
 * worker) and the `stream-` ops belong to no session; `held` counts what the worker holds (tests).
 */
export type PreparerRequest = {
  call: number;
  session: number;
  op: 'open' | 'records' | 'inserted' | 'finish' | 'close' | 'read' | 'release' | 'held' | 'stream-open' | 'stream-push' | 'stream-end' | 'stream-close';
  arg?: unknown;
};

/** The `arg` of the stream ops: the stream's id, with its options (`stream-open`) or a chunk (`stream-push`). */
export type StreamArgument = { stream: number } | { stream: number; options: StreamOptions } | { stream: number; chunk: Uint8Array };

/** What a stream's chunk or end gave: each batch held on the worker (by id), and the lines rejected. */
export type StreamStepResult = StreamStep<{ held: number; count: number }>;

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
