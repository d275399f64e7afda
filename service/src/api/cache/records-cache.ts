import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { filtersKey, type SearchQuery } from '../domain/search-query.js';
import type { CacheStore } from './cache-store.js';
import { loadAlone, type LoadOptions } from './loads.js';

export type CacheOutcome = 'hit' | 'miss' | 'bypass';
export type Cached<T> = { value: T; cache: CacheOutcome };

/**
 * Cache-aside for the two reads, correct across replicas that share the store:
 * - Search entries live under the current *generation*, a counter bumped after every committed
 *   write. A bump makes every older search entry unreachable at once, in every process.
 * - A found record is immutable, so its entry needs no generation. A "not found" entry records
 *   the generation it was seen in and counts only while that generation is current, so a 404
 *   never hides a record inserted later.
 * - A bump that fails (store down or slow) is owed: this process bypasses the store until the bump
 *   succeeds, and retries it as soon as the store is back, before anyone here reads from it again.
 * - Concurrent identical misses share one load. Store errors are misses, never failed requests.
 * Values are the response documents themselves, so a hit is sent without parsing or re-encoding.
 */
export type RecordsCache = {
  /** The record's JSON document, or null when absent. */
  getRecord(id: number, load: () => Promise<string | null>): Promise<Cached<string | null>>;
  /**
   * The search response's JSON document. The load's signal aborts once every caller waiting for
   * it has gone (one caller leaving does not fail the others' searches).
   */
  search(query: SearchQuery, load: (signal: AbortSignal) => Promise<string>, options?: LoadOptions): Promise<Cached<string>>;
  /** Call after a write has committed, before answering the writer. */
  afterWrite(): Promise<void>;
  close(): Promise<void>;
};

/** Marks a "not found" entry; a record document always starts with `{"id"`. */
const MISSING = 'missing:';

export function createRecordsCache({
  store,
  ttlSeconds,
  keyPrefix,
  logger,
  owedRetryMs = 1000,
}: {
  store: CacheStore;
  ttlSeconds: number;
  keyPrefix: string;
  logger: Logger;
  /** How often an owed bump is tried again while nothing else tries it. */
  owedRetryMs?: number;
}): RecordsCache {
  const generationKey = `${keyPrefix}generation`;
  /** Loads running, with how many callers wait for each and what stops it. */
  const inflight = new Map<string, { promise: Promise<unknown>; waiting: number; controller: AbortController }>();
  // Writes whose bump failed are numbered; a bump covers only those owed before it was sent, so
  // a reply arriving late never settles a write that failed its own bump meanwhile.
  let owedWrites = 0;
  let coveredWrites = 0;
  const owes = () => coveredWrites < owedWrites;
  // Also retried on a timer: after a command timed out, Redis stays "ready" (no event says it is
  // back) and a quiet process may serve no request to retry it on, while other replicas serve
  // entries from before the write.
  let retrying: NodeJS.Timeout | null = null;
  const stopRetrying = () => {
    if (retrying) clearInterval(retrying);
    retrying = null;
  };
  const owe = () => {
    owedWrites += 1;
    retrying ??= setInterval(() => {
      // Stopped only when nothing is owed by then: a write may have owed a bump since this one was sent.
      if (store.isAvailable()) void settleOwedBump().then(() => !owes() && stopRetrying());
    }, owedRetryMs).unref();
  };

  const settleOwedBump = async (): Promise<boolean> => {
    if (!owes()) return true;
    const covering = owedWrites;
    try {
      await store.increment(generationKey, Date.now());
    } catch {
      return false;
    }
    coveredWrites = Math.max(coveredWrites, covering);
    if (owes()) return false;
    logger.info('cache generation bumped after an outage');
    return true;
  };
  store.onAvailable(() => void settleOwedBump());

  const usable = (): boolean | Promise<boolean> => store.isAvailable() && (!owes() || settleOwedBump());

  /** The current generation, created when missing with a value above any earlier one (a clock reading). */
  const currentGeneration = async (known: string | null): Promise<string> =>
    known ?? (await store.initialize(generationKey, String(Date.now())));

  /**
   * Runs `load` once for concurrent callers of the same key, and keeps them joined until the
   * value is written to the store: a caller whose store read missed just before the write lands
   * still finds the load here instead of starting another.
   */
  function loadOnce<T>(key: string, generation: string, load: (signal: AbortSignal) => Promise<T>, entryOf: (value: T) => string, { signal, admit }: LoadOptions = {}): Promise<T> {
    // Loads started under an older generation may predate a write; never join them.
    const flight = `${generation}/${key}`;
    let running = inflight.get(flight);
    if (!running) {
      const release = admit?.();
      const controller = new AbortController();
      const started = {
        controller,
        waiting: 0,
        promise: (async () => {
          const value = await load(controller.signal);
          // A failed write only costs a later miss.
          await store.set(key, entryOf(value), ttlSeconds).catch(() => undefined);
          return value;
        })().finally(() => {
          if (inflight.get(flight) === started) inflight.delete(flight);
          release?.();
        }),
      };
      running = started;
      inflight.set(flight, running);
    }
    const joined = running;
    joined.waiting += 1;
    // The load stops once every caller waiting for it has gone; a caller coming later starts anew.
    const leave = () => {
      joined.waiting -= 1;
      if (joined.waiting > 0) return;
      if (inflight.get(flight) === joined) inflight.delete(flight);
      joined.controller.abort();
    };
    if (signal?.aborted) leave();
    else signal?.addEventListener('abort', leave, { once: true });
    return joined.promise as Promise<T>;
  }

  return {
    async getRecord(id, load) {
      if (!(await usable())) return { value: await load(), cache: 'bypass' };
      const key = `${keyPrefix}record:${id}`;
      let generation: string;
      try {
        const [knownGeneration, cached] = await store.getMany([generationKey, key]);
        if (cached !== null && cached !== undefined) {
          if (!cached.startsWith(MISSING)) return { value: cached, cache: 'hit' };
          if (cached === MISSING + knownGeneration) return { value: null, cache: 'hit' };
        }
        generation = await currentGeneration(knownGeneration ?? null);
      } catch {
        return { value: await load(), cache: 'bypass' };
      }
      const record = await loadOnce(key, generation, load, (found) => found ?? MISSING + generation);
      return { value: record, cache: 'miss' };
    },

    async search(query, load, options) {
      if (!(await usable())) return { value: await loadAlone(load, options), cache: 'bypass' };
      // The same canonical filters that bind cursors, plus the page's own limit and position.
      const canonical = JSON.stringify([filtersKey(query), query.limit, query.cursor]);
      const digest = createHash('sha256').update(canonical).digest('base64url');
      let key: string;
      let generation: string;
      try {
        const [knownGeneration] = await store.getMany([generationKey]);
        generation = await currentGeneration(knownGeneration ?? null);
        key = `${keyPrefix}search:${generation}:${digest}`;
        const [cached] = await store.getMany([key]);
        if (cached !== null && cached !== undefined) return { value: cached, cache: 'hit' };
      } catch {
        return { value: await loadAlone(load, options), cache: 'bypass' };
      }
      const page = await loadOnce(key, generation, load, (loaded) => loaded, options);
      return { value: page, cache: 'miss' };
    },

    async afterWrite() {
      if (!store.isAvailable()) return owe();
      try {
        await store.increment(generationKey, Date.now());
      } catch {
        owe();
      }
    },

    close: () => {
      stopRetrying();
      return store.close();
    },
  };
}
