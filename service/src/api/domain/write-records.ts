import { itemsOf, validateItems, type Rejection } from './bulk-items.js';
import { UnprocessableItems } from './errors.js';
import type { IdempotencyRequest, Idempotent, IdempotentWriter } from './idempotent-write.js';
import { ingestStream, type NdjsonLine, type StreamResult } from './ndjson-ingest.js';
import type { ReadCache } from './ports.js';

export type BulkResult = { inserted: number; ids: number[]; rejected: Rejection[] };
export type WriteOptions = { atomic: boolean; idempotency: IdempotencyRequest | null };

/** What the service reports about ingestion (metrics subscribe here). */
export type IngestObserver = { stored(count: number): void; rejected(count: number): void };

function rejectionPointer({ index, field }: Rejection): string {
  return field === 'item' ? `#/items/${index}` : `#/items/${index}/${field}`;
}

/**
 * The two writes: a parsed `{"items": [...]}` document, and an NDJSON stream read line by line.
 * Each runs through the idempotent writer in one transaction; after a write that stored
 * something commits, the read cache learns its entries are stale.
 */
export function createWriteRecords({
  writeOnce,
  cache,
  observer,
  streamBatchSize,
}: {
  writeOnce: IdempotentWriter;
  cache: ReadCache;
  observer: IngestObserver;
  /** Records per insert step of a stream (memory is bounded by this). */
  streamBatchSize: number;
}) {
  const committed = async (outcome: Idempotent<{ inserted: number }>, rejected: number) => {
    if (outcome.replayed) return;
    observer.rejected(rejected);
    observer.stored(outcome.value.inserted);
    if (outcome.value.inserted > 0) await cache.afterWrite();
  };

  return {
    async storeItems(body: unknown, { atomic, idempotency }: WriteOptions): Promise<Idempotent<BulkResult>> {
      const { accepted, rejected } = validateItems(itemsOf(body));
      if (atomic && rejected.length > 0) {
        observer.rejected(rejected.length);
        throw new UnprocessableItems(
          `${rejected.length} item(s) are invalid; with atomic=true nothing was stored.`,
          rejected.map((rejection) => ({ pointer: rejectionPointer(rejection), detail: rejection.message })),
          { rejected },
        );
      }
      const outcome = await writeOnce<BulkResult>(idempotency, async (tx) => {
        const ids = accepted.length > 0 ? await tx.insert(accepted) : [];
        return { inserted: ids.length, ids, rejected };
      });
      await committed(outcome, rejected.length);
      return outcome;
    },

    async storeStream(lines: AsyncIterable<NdjsonLine>, { atomic, idempotency }: WriteOptions): Promise<Idempotent<StreamResult>> {
      let outcome: Idempotent<StreamResult>;
      try {
        outcome = await writeOnce<StreamResult>(
          idempotency,
          (tx) => ingestStream(tx, lines, { atomic, batchSize: streamBatchSize }),
          // A replay still reads the whole body, to compare its digest with the first one's.
          async () => {
            for await (const line of lines) void line;
          },
        );
      } catch (error) {
        if (error instanceof UnprocessableItems && typeof error.extensions.rejectedCount === 'number') observer.rejected(error.extensions.rejectedCount);
        throw error;
      }
      await committed(outcome, outcome.value.rejectedCount);
      return outcome;
    },
  };
}
