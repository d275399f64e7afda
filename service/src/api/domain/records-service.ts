import { createIdempotentWriter } from './idempotent-write.js';
import type { IdempotencyStore, ReadCache, RecordsStore, SearchIndex, SearchPage } from './ports.js';
import type { StoredRecord } from './record.js';
import type { SearchQuery } from './search-query.js';
import { createWriteRecords, type IngestObserver } from './write-records.js';

const IGNORE: IngestObserver = { stored: () => {}, rejected: () => {} };

/**
 * The records use cases, over the ports the domain declares: store items or a stream (idempotently
 * when asked), find one record, search. HTTP-free, so routes stay thin and tests can call them
 * with in-memory ports.
 */
export function createRecordsService({
  store,
  index,
  idempotency,
  cache,
  observer = IGNORE,
  streamBatchSize,
  now = Date.now,
}: {
  store: RecordsStore;
  index: SearchIndex;
  idempotency: IdempotencyStore;
  cache: ReadCache;
  observer?: IngestObserver;
  streamBatchSize: number;
  /** The clock idempotency keys expire by (milliseconds since the epoch). */
  now?: () => number;
}) {
  const writeOnce = createIdempotentWriter({ store, idempotency, now });
  return {
    ...createWriteRecords({ writeOnce, cache, observer, streamBatchSize }),
    findRecord: (id: number): Promise<StoredRecord | null> => store.findById(id),
    search: (query: SearchQuery): Promise<SearchPage> => index.search(query),
  };
}

export type RecordsService = ReturnType<typeof createRecordsService>;
