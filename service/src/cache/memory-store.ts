import type { CacheStore } from './cache-store.js';

type Entry = { value: string; bytes: number; expiresAt: number };

/**
 * The embedded default: an LRU bounded both in entries and in bytes (UTF-16 length x 2 plus the
 * key), with a TTL per entry. Map iteration order is insertion order, so the first key is the
 * least recently used once every read re-inserts its entry.
 */
export function createMemoryStore({
  maxEntries,
  maxBytes,
  now = Date.now,
}: {
  maxEntries: number;
  maxBytes: number;
  now?: () => number;
}): CacheStore & { stats(): { entries: number; bytes: number } } {
  const entries = new Map<string, Entry>();
  // Counters never expire or get evicted: losing one could resurrect entries of an old generation.
  const counters = new Map<string, string>();
  let bytes = 0;

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (entry) {
      entries.delete(key);
      bytes -= entry.bytes;
    }
  };

  const read = (key: string): string | null => {
    const counter = counters.get(key);
    if (counter !== undefined) return counter;
    const entry = entries.get(key);
    if (!entry) return null;
    remove(key);
    if (entry.expiresAt <= now()) return null;
    entries.set(key, entry);
    bytes += entry.bytes;
    return entry.value;
  };

  return {
    kind: 'memory',
    isAvailable: () => true,
    async getMany(keys) {
      return keys.map(read);
    },
    async set(key, value, ttlSeconds) {
      remove(key);
      const size = (key.length + value.length) * 2;
      if (size > maxBytes) return;
      entries.set(key, { value, bytes: size, expiresAt: now() + ttlSeconds * 1000 });
      bytes += size;
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries && bytes <= maxBytes) break;
        remove(oldest);
      }
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
      bytes = 0;
    },
    stats: () => ({ entries: entries.size, bytes }),
  };
}
