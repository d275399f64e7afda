import { loadAlone } from './loads.js';
import type { RecordsCache } from './records-cache.js';

/** CACHE=off: every read goes to the database and says so. */
export function createDisabledCache(): RecordsCache {
  return {
    getRecord: async (_id, load) => ({ value: await load(), cache: 'bypass' }),
    search: async (_query, load, options) => ({ value: await loadAlone(load, options), cache: 'bypass' }),
    afterWrite: async () => {},
    close: async () => {},
  };
}
