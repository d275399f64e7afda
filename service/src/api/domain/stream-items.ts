import { checkItem } from './bulk-items.js';
import { createLineSplitter } from './ndjson-lines.js';
import type { NewRecord } from './record.js';

export type LineRejection = { line: number; field: string; message: string };

/** Rejections a stream reports line by line; past these it only counts them. */
export const MAX_REPORTED_REJECTIONS = 100;

export type StreamOptions = {
  /** A longer line is rejected (and memory never holds more of it). */
  maxLineBytes: number;
  /** Records per batch: a batch is handed over once full, the last one at the end. */
  batchSize: number;
  /** Once a line is rejected, later records are dropped, not batched: nothing will be stored. */
  atomic: boolean;
};

/**
 * What reading one chunk (or the end) of a stream gave: the batches it filled, and the lines it
 * rejected (the first MAX_REPORTED_REJECTIONS of the stream; `rejectedCount` counts them all).
 */
export type StreamStep<Batch> = { batches: Batch[]; rejected: LineRejection[]; rejectedCount: number };

/**
 * Reads an NDJSON stream's chunks into batches of valid records: splitting, parsing and
 * validating each line. Memory holds the batches one chunk fills, one partial batch and at most
 * `maxLineBytes` of a line a chunk cuts. Plain data in
 * and out, so it runs on the thread that serves requests or on a worker thread.
 */
export function createStreamItems({ maxLineBytes, batchSize, atomic }: StreamOptions) {
  const splitter = createLineSplitter(maxLineBytes);
  let batch: NewRecord[] = [];
  let reported = 0;
  let failed = false;

  function stepOf(lines: ReturnType<typeof splitter.push>, last: boolean): StreamStep<NewRecord[]> {
    const step: StreamStep<NewRecord[]> = { batches: [], rejected: [], rejectedCount: 0 };
    const reject = (line: number, field: string, message: string) => {
      failed = true;
      step.rejectedCount += 1;
      if (reported < MAX_REPORTED_REJECTIONS) {
        reported += 1;
        step.rejected.push({ line, field, message });
      }
    };
    for (const entry of lines) {
      if ('problem' in entry) {
        reject(entry.line, 'line', entry.problem);
        continue;
      }
      const checked = checkItem(entry.item);
      if (!checked.ok) {
        reject(entry.line, checked.field, checked.message);
        continue;
      }
      // Once an atomic load has failed, reading goes on to report every error, storing nothing more.
      if (atomic && failed) continue;
      batch.push(checked.record);
      if (batch.length >= batchSize) {
        step.batches.push(batch);
        batch = [];
      }
    }
    if (atomic && failed) batch = [];
    if (last && batch.length > 0) {
      step.batches.push(batch);
      batch = [];
    }
    return step;
  }

  return {
    push: (chunk: Uint8Array): StreamStep<NewRecord[]> => stepOf(splitter.push(chunk), false),
    end: (): StreamStep<NewRecord[]> => stepOf(splitter.end(), true),
  };
}
