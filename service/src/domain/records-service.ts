import type { Cached, RecordsCache } from '../cache/records-cache.js';
import type { RecordsRepository } from '../data/records-repository.js';
import { itemsOf, validateItems, type Rejection } from './bulk-items.js';
import { encodeCursor } from './cursor.js';
import { InvalidInput, UnprocessableItems } from './errors.js';
import { toView, type RecordView } from './record.js';
import { runIdempotently, type Idempotent, type IdempotencyRequest } from './idempotency.js';
import { ingestStream, type NdjsonLine, type StreamResult } from './ndjson-ingest.js';
import { filtersKey, parseSearchQuery } from './search-query.js';

export type BulkResult = { inserted: number; ids: number[]; rejected: Rejection[] };
export type SearchResult = { items: RecordView[]; next: string | null };

const ID_PATTERN = /^[1-9]\d{0,15}$/;

export function parseRecordId(text: string): number {
  const id = Number(text);
  if (!ID_PATTERN.test(text) || !Number.isSafeInteger(id)) {
    throw new InvalidInput('The record id is not valid.', [
      { parameter: 'id', detail: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` },
    ]);
  }
  return id;
}

function rejectionPointer({ index, field }: Rejection): string {
  return field === 'item' ? `#/items/${index}` : `#/items/${index}/${field}`;
}

/** The records use cases: HTTP-free, so routes stay thin and tests can call them directly. */
/** What the service reports about ingestion (metrics subscribe here). */
export type IngestObserver = { stored(count: number): void; rejected(count: number): void };

const IGNORE: IngestObserver = { stored: () => {}, rejected: () => {} };

export function createRecordsService({
  repository,
  cache,
  observer = IGNORE,
  streamBatchSize = 1000,
}: {
  repository: RecordsRepository;
  cache: RecordsCache;
  observer?: IngestObserver;
  /** Records per transaction step of an NDJSON stream (memory is bounded by this). */
  streamBatchSize?: number;
}) {
  return {
    async bulkInsert(body: unknown, options: { atomic: boolean; idempotency?: IdempotencyRequest | null }): Promise<Idempotent<BulkResult>> {
      const { accepted, rejected } = validateItems(itemsOf(body));
      if (options.atomic && rejected.length > 0) {
        observer.rejected(rejected.length);
        throw new UnprocessableItems(
          `${rejected.length} item(s) are invalid; with atomic=true nothing was stored.`,
          rejected.map((rejection) => ({ pointer: rejectionPointer(rejection), detail: rejection.message })),
          { rejected },
        );
      }
      const outcome = await runIdempotently<BulkResult>(repository, options.idempotency ?? null, (beforeCommit) =>
        repository.inTransaction(async (tx) => {
          const ids = accepted.length > 0 ? await tx.insert(accepted) : [];
          const result = { inserted: ids.length, ids, rejected };
          await beforeCommit?.(tx, result);
          return result;
        }),
      );
      if (!outcome.replayed) {
        observer.rejected(rejected.length);
        observer.stored(outcome.value.inserted);
        if (outcome.value.inserted > 0) await cache.afterWrite();
      }
      return outcome;
    },

    /** Loads an NDJSON stream in one transaction, batch by batch. */
    async bulkInsertStream(
      lines: AsyncIterable<NdjsonLine>,
      options: { atomic: boolean; idempotency?: IdempotencyRequest | null },
    ): Promise<Idempotent<StreamResult>> {
      let outcome: Idempotent<StreamResult>;
      try {
        outcome = await runIdempotently<StreamResult>(
          repository,
          options.idempotency ?? null,
          (beforeCommit) => ingestStream(repository, lines, { atomic: options.atomic, batchSize: streamBatchSize, beforeCommit }),
          // A replay still reads the whole body, to compare it with the first one.
          async () => {
            for await (const line of lines) void line;
          },
        );
      } catch (error) {
        const rejectedCount = (error as { extensions?: { rejectedCount?: number } }).extensions?.rejectedCount;
        if (typeof rejectedCount === 'number') observer.rejected(rejectedCount);
        throw error;
      }
      if (!outcome.replayed) {
        observer.rejected(outcome.value.rejectedCount);
        observer.stored(outcome.value.inserted);
        if (outcome.value.inserted > 0) await cache.afterWrite();
      }
      return outcome;
    },

    /**
     * The record as a JSON document (a RecordView), or null when no record has this id. Reads
     * return serialized documents so that cache hits are sent as stored.
     */
    async getById(idText: string): Promise<Cached<string | null>> {
      const id = parseRecordId(idText);
      return cache.getRecord(id, async () => {
        const record = await repository.findById(id);
        return record ? JSON.stringify(toView(record)) : null;
      });
    },

    /** The search response as a JSON document (a SearchResult). */
    async search(rawQuery: Record<string, string | string[] | undefined>): Promise<Cached<string>> {
      const query = parseSearchQuery(rawQuery);
      return cache.search(query, async () => {
        const page = await repository.search(query);
        const result: SearchResult = {
          items: page.records.map(toView),
          next: page.next ? encodeCursor(page.next, filtersKey(query)) : null,
        };
        return JSON.stringify(result);
      });
    },
  };
}

export type RecordsService = ReturnType<typeof createRecordsService>;
