/**
 * Where cached values live: Redis shared by every replica, or a bounded in-process LRU.
 * Implementations throw on failure; the read-through layer turns failures into misses.
 */
export type CacheStore = {
  readonly kind: 'redis' | 'memory';
  /** False while the store is known to be unreachable, so requests skip it without waiting. */
  isAvailable(): boolean;
  /** Values of `keys`, null where absent, in one round trip. */
  getMany(keys: string[]): Promise<Array<string | null>>;
  /** Stores `value` under `key` for `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Sets `key` to `value` (no expiry) unless it exists; returns the value `key` then holds. */
  initialize(key: string, value: string): Promise<string>;
  /** Atomically increments the integer at `key`, first setting it to `floor` when it is missing. */
  increment(key: string, floor: number): Promise<number>;
  /** Subscribes to availability changes (Redis reconnecting, for example). */
  onAvailable(listener: () => void): void;
  close(): Promise<void>;
};
