import { eachTrigram } from '../domain/trigrams.js';

/**
 * The substring index's storage format: for each trigram, a posting list of the ids of the records
 * whose folded title contains it, stored as one row per (trigram, group of records written
 * together): `first_id` (the group's smallest id), `n` (how many ids) and `ids`, the ids as
 * unsigned LEB128 deltas from `first_id`. A load of 1,000 records writes one row per distinct
 * trigram of those titles instead of one row per (trigram, record): the per-row overhead of a
 * B-tree row (about 30 bytes in InnoDB) is paid once per group, and each posting costs one or two
 * bytes. docs/performance.md has the measurements behind the format.
 */

export type PostingRow = { trigram: string; first_id: number; n: number; ids: Buffer };
export const POSTING_COLUMNS = ['trigram', 'first_id', 'n', 'ids'] as const;

/**
 * The most bytes of posting rows one statement carries (the writer's INSERTs, the compactor's
 * UPDATEs). However many ids a row holds (a group's 8,192 at up to 8 bytes each, 128 KiB as hex),
 * it fits, and the start-up check requires max_allowed_packet to hold this (data/database.ts):
 * without it, a load whose titles share many trigrams wrote the index in one statement of several
 * MiB, refused on every retry where the packet is small.
 */
export const POSTING_STATEMENT_BYTES = 512 * 1024;

/**
 * At most how many bytes a posting row's values take in a formatted statement: the ids as hex, and
 * the trigram escaped (3 bytes of UTF-8 per UTF-16 unit at most, or 2 where escaped).
 */
export const postingRowBytes = (trigram: string, ids: Uint8Array): number => 2 * ids.length + 3 * trigram.length + 64;

/** `items` in consecutive runs of at most `most` items and, past a run's first item, `budget` bytes. */
export function* runsWithin<T>(items: readonly T[], most: number, budget: number, bytesOf: (item: T) => number): Generator<T[]> {
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < items.length; i += 1) {
    const size = bytesOf(items[i] as T);
    if (i > start && (i - start >= most || bytes + size > budget)) {
      yield items.slice(start, i);
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start < items.length) yield items.slice(start);
}

/** Ids in increasing order, as deltas: the first from `base`, each next from the previous. */
export function encodeIds(base: number, ids: readonly number[]): Buffer {
  const bytes: number[] = [];
  let previous = base;
  for (const id of ids) {
    let delta = id - previous;
    previous = id;
    while (delta >= 0x80) {
      bytes.push((delta % 0x80) | 0x80);
      delta = Math.floor(delta / 0x80);
    }
    bytes.push(delta);
  }
  return Buffer.from(bytes);
}

/** The ids of one row, appended to `into`. */
export function decodeIds(base: number, encoded: Uint8Array, into: number[] = []): number[] {
  let previous = base;
  let delta = 0;
  let scale = 1;
  for (const byte of encoded) {
    delta += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      previous += delta;
      into.push(previous);
      delta = 0;
      scale = 1;
    } else {
      scale *= 0x80;
    }
  }
  return into;
}

/**
 * Collects the trigrams of titles written in one transaction and turns them into posting rows.
 * Ids must be added in increasing order (one transaction's inserts get increasing ids).
 */
export function createPostingsBuilder() {
  let lists = new Map<string, number[]>();
  let records = 0;
  let firstId = 0;
  let lastId = 0;
  return {
    get records() {
      return records;
    },
    /** The ids added since the last drain: from `first` to `last`, `records` of them. */
    get span() {
      return { first: firstId, last: lastId, records };
    },
    add(id: number, titleFolded: string): void {
      if (records === 0) firstId = id;
      lastId = id;
      records += 1;
      eachTrigram(titleFolded, (trigram) => {
        const list = lists.get(trigram);
        // A title's repeated trigram meets its own id last in the list: one posting per record.
        if (!list) lists.set(trigram, [id]);
        else if (list[list.length - 1] !== id) list.push(id);
      });
    },
    /** The rows for everything added since the last drain, in key order (B-tree inserts in order touch fewer pages). */
    drain(): PostingRow[] {
      const rows: PostingRow[] = [];
      for (const [trigram, ids] of lists) {
        const first = ids[0] as number;
        rows.push({ trigram, first_id: first, n: ids.length, ids: encodeIds(first, ids) });
      }
      lists = new Map();
      records = 0;
      return rows.sort((a, b) => (a.trigram < b.trigram ? -1 : a.trigram > b.trigram ? 1 : 0));
    },
  };
}
