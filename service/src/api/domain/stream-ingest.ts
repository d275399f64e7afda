import { checkItem } from './bulk-items.js';
import { UnprocessableItems } from './errors.js';
import type { WriteTransaction } from './ports.js';
import type { NewRecord } from './record.js';

/** One line of a stream of items: the item as parsed, or why the line could not be read. */
export type IngestLine = { line: number; item: unknown } | { line: number; problem: string };

export type LineRejection = { line: number; field: string; message: string };

export type StreamResult = {
  inserted: number;
  /** Ids as inclusive [first, last] ranges, in line order: a million ids stay small. */
  idRanges: Array<[number, number]>;
  /** The first MAX_REPORTED rejections; `rejectedCount` counts them all. */
  rejected: LineRejection[];
  rejectedCount: number;
};

export const MAX_REPORTED_REJECTIONS = 100;

/**
 * Streams items, arriving a few lines at a time, into one write transaction in batches: memory
 * stays bounded by the batch size whatever the body's length. With `atomic`, any invalid line
 * rolls everything back (after reading the whole body, so every error is reported).
 */
export async function ingestStream(tx: WriteTransaction, lines: AsyncIterable<IngestLine[]>, options: { atomic: boolean; batchSize: number }): Promise<StreamResult> {
  const result: StreamResult = { inserted: 0, idRanges: [], rejected: [], rejectedCount: 0 };
  let batch: NewRecord[] = [];
  const reject = (line: number, field: string, message: string) => {
    result.rejectedCount += 1;
    if (result.rejected.length < MAX_REPORTED_REJECTIONS) result.rejected.push({ line, field, message });
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const ids = await tx.insert(batch);
    batch = [];
    for (const id of ids) {
      const last = result.idRanges.at(-1);
      if (last && last[1] === id - 1) last[1] = id;
      else result.idRanges.push([id, id]);
    }
    result.inserted += ids.length;
  };

  for await (const arrived of lines) {
    for (const entry of arrived) {
      if ('problem' in entry) {
        reject(entry.line, 'line', entry.problem);
        continue;
      }
      const checked = checkItem(entry.item);
      if (!checked.ok) {
        reject(entry.line, checked.field, checked.message);
        continue;
      }
      // Once an atomic load has failed, keep reading to report every error, but store nothing more.
      if (options.atomic && result.rejectedCount > 0) continue;
      batch.push(checked.record);
      if (batch.length >= options.batchSize) await flush();
    }
  }
  if (options.atomic && result.rejectedCount > 0) {
    throw new UnprocessableItems(
      `${result.rejectedCount} line(s) are invalid; with atomic=true nothing was stored.`,
      result.rejected.map((rejection) => ({ pointer: `line ${rejection.line}`, detail: `${rejection.field}: ${rejection.message}` })),
      { rejected: result.rejected, rejectedCount: result.rejectedCount },
    );
  }
  await flush();
  return result;
}
