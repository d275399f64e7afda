import { LRUCache } from 'lru-cache';
import type { CacheStore } from './cache-store.js';

/**
 * The embedded default: an in-process LRU (lru-cache) bounded both in entries and in bytes
 * (UTF-16 length x 2 of key and value), with a TTL per entry.
 */
export function createMemoryStore({
  maxEntries,
  maxBytes,
  now = Date.now,
}: {
  maxEntries: number;
  maxBytes: number;
  /** The clock TTLs are measured on (tests move it). */
  now?: () => number;
}): CacheStore & { stats(): { entries: number; bytes: number } } {
  const entries = new LRUCache<string, string>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (value, key) => (key.length + value.length) * 2,
    perf: { now },
    ttlResolution: 0,
  });
  // Counters never expire or get evicted: losing one could resurrect entries of an old generation.
  const counters = new Map<string, string>();
  const read = (key: string): string | null => counters.get(key) ?? entries.get(key) ?? null;

  return {
    kind: 'memory',
    isAvailable: () => true,
    async getMany(keys) {
      return keys.map(read);
    },
    async set(key, value, ttlSeconds) {
      // A value larger than the whole budget is not kept (lru-cache refuses it) and replaces nothing.
      entries.set(key, value, { ttl: ttlSeconds * 1000 });
    },
    async initialize(key, value) {
      if (!counters.has(key)) counters.set(key, value);
      return counters.get(key) as string;
    },
    async increment(key, floor) {
      const next = Number(counters.get(key) ?? floor) + 1;
      counters.set(key, String(next));
      return next;
    },
    onAvailable: () => {},
    async close() {
      entries.clear();
    },
    stats: () => ({ entries: entries.size, bytes: entries.calculatedSize }),
  };
}
