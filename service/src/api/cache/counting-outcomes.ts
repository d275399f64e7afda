import type { CacheOutcome, RecordsCache } from './records-cache.js';

/** Counts every read's outcome, whatever the store (or none). */
export function countingOutcomes(cache: RecordsCache, count: (operation: 'record' | 'search', outcome: CacheOutcome) => void): RecordsCache {
  return {
    ...cache,
    async getRecord(id, load) {
      const result = await cache.getRecord(id, load);
      count('record', result.cache);
      return result;
    },
    async search(query, load, options) {
      const result = await cache.search(query, load, options);
      count('search', result.cache);
      return result;
    },
  };
}
