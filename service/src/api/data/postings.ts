import { trigramsOf } from '../domain/trigrams.js';

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
      for (const trigram of trigramsOf(titleFolded)) {
        const list = lists.get(trigram);
        if (list) list.push(id);
        else lists.set(trigram, [id]);
      }
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
