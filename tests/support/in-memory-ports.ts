import { IdempotencyKeyTaken } from '../../service/src/api/domain/errors.js';
import type { IdempotencyStore, RecordsStore, RememberedResponse, SearchIndex } from '../../service/src/api/domain/ports.js';
import type { StoredRecord } from '../../service/src/api/domain/record.js';
import { foldText, foldUri } from '../../service/src/api/domain/text.js';

/**
 * The domain's ports in memory, for fast unit tests of its rules without MariaDB. They keep the
 * contracts the SQL adapters keep: a transaction's writes appear only when its work resolves, a
 * key is remembered once, a search returns what a scan in (date, id) order returns. The
 * integration suites run the same rules against the real adapters.
 */
export function createInMemoryPorts() {
  const records: StoredRecord[] = [];
  const remembered = new Map<string, RememberedResponse>();
  let nextId = 1;
  const slot = (scope: string, key: string) => `${scope}\0${key}`;

  const store: RecordsStore = {
    async inTransaction(work) {
      const staged: StoredRecord[] = [];
      const stagedKeys = new Map<string, RememberedResponse>();
      const result = await work({
        insert: async (batch) => {
          // The domain's default reader reads inline: its records are always in hand.
          if (!Array.isArray(batch)) throw new Error('the in-memory store inserts records in hand only');
          return batch.map((record) => {
            const stored = { id: nextId++, ...record };
            staged.push(stored);
            return stored.id;
          });
        },
        remember: async (entry, nowMs) => {
          const earlier = remembered.get(slot(entry.scope, entry.key));
          if (earlier && earlier.expiresAtMs >= nowMs) throw new IdempotencyKeyTaken('Another request with this Idempotency-Key finished first.');
          stagedKeys.set(slot(entry.scope, entry.key), entry);
        },
      });
      records.push(...staged);
      for (const [key, entry] of stagedKeys) remembered.set(key, entry);
      return result;
    },
    findById: async (id) => records.find((record) => record.id === id) ?? null,
  };

  const index: SearchIndex = {
    async search(query) {
      const matches = records
        .filter((record) => (query.after === null || record.dateMs >= query.after) && (query.before === null || record.dateMs < query.before))
        // Folded as the real stores fold what they index (the query's terms arrive folded).
        .filter((record) => query.contains === null || foldText(record.title ?? '').includes(query.contains))
        .filter((record) => query.uri === null || foldUri(record.uri ?? '').includes(query.uri))
        .filter((record) => query.cursor === null || record.dateMs > query.cursor.dateMs || (record.dateMs === query.cursor.dateMs && record.id > query.cursor.id))
        .sort((a, b) => a.dateMs - b.dateMs || a.id - b.id);
      const page = matches.slice(0, query.limit);
      const last = page.at(-1);
      return { records: page, next: matches.length > query.limit && last ? { dateMs: last.dateMs, id: last.id } : null };
    },
  };

  const find: IdempotencyStore['find'] = async (scope, key, nowMs) => {
    const entry = remembered.get(slot(scope, key));
    return entry && entry.expiresAtMs >= nowMs ? entry : null;
  };
  // Writes here are never in flight while another runs: nothing to wait for.
  const idempotency: IdempotencyStore = { find, findAfterWriter: find };

  return { store, index, idempotency, records };
}
