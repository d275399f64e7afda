import type { Rejection } from './bulk-items.js';
import { inlineItemsReader } from './inline-reader.js';
import { pointerTo } from './json-pointer.js';
import { UnprocessableItems } from './errors.js';
import { writeOnce, type IdempotencyRequest, type Idempotent } from './idempotent-write.js';
import { ingestStream, type StreamResult } from './stream-ingest.js';
import { batchLength, type IdempotencyStore, type ItemsReader, type RecordsStore, type SearchIndex, type SearchPage } from './ports.js';
import type { StoredRecord } from './record.js';
import type { SearchQuery } from './search-query.js';

export type BulkResult = { inserted: number; ids: number[]; rejected: Rejection[] };
export type WriteOptions = { atomic: boolean; idempotency: IdempotencyRequest | null };

/** What the service reports about ingestion (metrics subscribe here). */
export type IngestObserver = { stored(count: number): void; rejected(count: number): void };

const IGNORE: IngestObserver = { stored: () => {}, rejected: () => {} };

function rejectionPointer({ index, field }: Rejection): string {
  return field === 'item' ? pointerTo('items', index) : pointerTo('items', index, field);
}

/**
 * The records use cases, over the ports the domain declares. The two writes (a `{"items": [...]}`
 * document and an NDJSON stream, both read by `reader`) each validate, run once
 * per Idempotency-Key and commit in one transaction. Reads need no rule of their own: the ports
 * answer them. HTTP-free, so routes stay thin and tests can call them with in-memory ports.
 */
export function createRecordsService({
  store,
  index,
  idempotency,
  reader = inlineItemsReader,
  observer = IGNORE,
  streamBatchSize,
  now = Date.now,
}: {
  store: RecordsStore;
  index: SearchIndex;
  idempotency: IdempotencyStore;
  /** Where documents and streams are parsed and validated: a worker pool in the service, whose store inserts what it holds; inline by default (tests). */
  reader?: ItemsReader;
  observer?: IngestObserver;
  /** Records per insert step of a stream (memory is bounded by this). */
  streamBatchSize: number;
  /** The clock idempotency keys expire by (milliseconds since the epoch). */
  now?: () => number;
}) {
  const writes = { store, idempotency, now };
  const counted = <T extends { inserted: number }>(outcome: Idempotent<T>, rejected: number): Idempotent<T> => {
    if (!outcome.replayed) {
      observer.rejected(rejected);
      observer.stored(outcome.value.inserted);
    }
    return outcome;
  };

  return {
    async storeItems(document: Uint8Array, { atomic, idempotency: key }: WriteOptions): Promise<Idempotent<BulkResult>> {
      const { accepted, rejected } = await reader.read(document);
      try {
        const outcome = await writeOnce<BulkResult>(
          writes,
          key,
          // In the write, as for streams: a remembered response (or a reused key) answers first, and
          // an atomic refusal rolls back a transaction that wrote nothing.
          async (tx) => {
            if (atomic && rejected.length > 0) {
              observer.rejected(rejected.length);
              throw new UnprocessableItems(
                `${rejected.length} item(s) are invalid; with atomic=true nothing was stored.`,
                rejected.map((rejection) => ({ pointer: rejectionPointer(rejection), detail: rejection.message })),
                { rejected },
              );
            }
            const ids = batchLength(accepted) > 0 ? await tx.insert(accepted) : [];
            return { inserted: ids.length, ids, rejected };
          },
          async () => {},
        );
        return counted(outcome, rejected.length);
      } finally {
        if (!Array.isArray(accepted)) accepted.release();
      }
    },

    /**
     * An NDJSON body's chunks, as they arrive; a line longer than `maxLineBytes` is rejected.
     * `declaredBytes`: the body's length, when the client declared it.
     */
    async storeStream(
      chunks: AsyncIterable<Uint8Array>,
      { atomic, idempotency: key, maxLineBytes, declaredBytes }: WriteOptions & { maxLineBytes: number; declaredBytes: number | null },
    ): Promise<Idempotent<StreamResult>> {
      try {
        const outcome = await writeOnce<StreamResult>(
          writes,
          key,
          (tx) => ingestStream(tx, chunks, reader.stream({ maxLineBytes, batchSize: streamBatchSize, atomic }, declaredBytes), { atomic }),
          // A replay still reads the whole body, to compare its digest with the first one's.
          async () => {
            for await (const chunk of chunks) void chunk;
          },
        );
        return counted(outcome, outcome.value.rejectedCount);
      } catch (error) {
        if (error instanceof UnprocessableItems && typeof error.extensions.rejectedCount === 'number') observer.rejected(error.extensions.rejectedCount);
        throw error;
      }
    },

    findRecord: (id: number): Promise<StoredRecord | null> => store.findById(id),
    search: (query: SearchQuery, signal?: AbortSignal): Promise<SearchPage> => index.search(query, signal),
  };
}

export type RecordsService = ReturnType<typeof createRecordsService>;
