import { UnprocessableItems } from './errors.js';
import { releaseBatch, type RecordBatch, type StreamReader, type WriteTransaction } from './ports.js';
import type { LineRejection, StreamStep } from './stream-items.js';

export type StreamResult = {
  inserted: number;
  /** Ids as inclusive [first, last] ranges, in line order: a million ids stay small. */
  idRanges: Array<[number, number]>;
  /** The first MAX_REPORTED_REJECTIONS (stream-items.ts) rejections; `rejectedCount` counts them all. */
  rejected: LineRejection[];
  rejectedCount: number;
};

/**
 * Streams an NDJSON body, arriving a chunk at a time, into one write transaction: `reader` turns
 * the chunks into batches of valid records (on a worker thread in the service), each inserted
 * before the next chunk is read, so memory stays bounded by the batch size whatever the body's
 * length. With `atomic`, any invalid line rolls everything back (after reading the whole body, so
 * every error is reported).
 */
export async function ingestStream(tx: WriteTransaction, chunks: AsyncIterable<Uint8Array>, reader: StreamReader, { atomic }: { atomic: boolean }): Promise<StreamResult> {
  const result: StreamResult = { inserted: 0, idRanges: [], rejected: [], rejectedCount: 0 };
  const insert = async (batch: RecordBatch) => {
    const ids = await tx.insert(batch);
    for (const id of ids) {
      const last = result.idRanges.at(-1);
      if (last && last[1] === id - 1) last[1] = id;
      else result.idRanges.push([id, id]);
    }
    result.inserted += ids.length;
  };
  const take = async ({ batches, rejected, rejectedCount }: StreamStep<RecordBatch>) => {
    try {
      result.rejectedCount += rejectedCount;
      // The reader reports the stream's first MAX_REPORTED_REJECTIONS only, and counts the rest.
      result.rejected.push(...rejected);
      // Once an atomic load has failed, nothing more is stored (the reader drops what follows).
      for (const batch of batches) if (!(atomic && result.rejectedCount > 0)) await insert(batch);
    } finally {
      // Inserted, skipped, or left behind by a failed insert: every batch handed over is freed.
      batches.forEach(releaseBatch);
    }
  };

  try {
    for await (const chunk of chunks) await take(await reader.push(chunk));
    await take(await reader.end());
  } finally {
    reader.close();
  }
  if (atomic && result.rejectedCount > 0) {
    throw new UnprocessableItems(
      `${result.rejectedCount} line(s) are invalid; with atomic=true nothing was stored.`,
      result.rejected.map((rejection) => ({ pointer: `line ${rejection.line}`, detail: `${rejection.field}: ${rejection.message}` })),
      { rejected: result.rejected, rejectedCount: result.rejectedCount },
    );
  }
  return result;
}
