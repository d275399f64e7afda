import type { Knex } from 'knex';
import { trigramsOf } from '../domain/trigrams.js';
import type { Database } from './database.js';
import { FRAGMENT_BELOW, POSTING_GROUP } from './index-writer.js';
import { decodeIds, encodeIds, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from './postings.js';

/**
 * Merges the posting rows of small writes (fragments, listed in `index_fragments`) into groups as
 * large as a bulk load writes, so an index fed a few records at a time stays as compact and as
 * selective as a bulk-loaded one (docs/search-index.md, "Small writes").
 *
 * Exact by construction: one transaction per batch reads rows, keeps the first of each trigram's
 * rows with all their ids and deletes the rest; it commits or rolls back whole. On MySQL/MariaDB it
 * reads at READ COMMITTED with `FOR UPDATE SKIP LOCKED`: no gap locks (writers inserting new rows
 * never wait), and rows an open write holds are left out of the merge, not waited for. Replicas
 * take turns through the one row of `index_merge_lock` (a replica finding it taken skips its pass).
 */

export type Fragment = { first_id: number; last_id: number; n: number };
export type CompactionLimits = {
  /** Records per merged group, at most. */
  groupSize: number;
  /** The newest batch is merged once it holds this many records (older ones are closed and merged anyway). */
  mergeAt: number;
  /** Ids a batch spans at most (the titles of that range are read to find its trigrams). */
  span: number;
};
export const COMPACTION: CompactionLimits = { groupSize: POSTING_GROUP, mergeAt: 16 * FRAGMENT_BELOW, span: 8 * POSTING_GROUP };

type PostingRead = { trigram: string; first_id: number | string; n: number | string; ids: Uint8Array };

/** Keys per DELETE, and rows per UPDATE (each carries a CASE branch per row). */
const KEYS_PER_STATEMENT = 1000;
const ROWS_PER_UPDATE = 100;
/** Fragments read per pass. */
const FRAGMENTS_PER_PASS = 5000;
const EMPTY = new Uint8Array(0);
/** Trigrams whose rows one statement reads. */
const GRAMS_PER_READ = 500;

/**
 * Consecutive fragments to merge in one transaction. `relist`: the batch is the newest and under a
 * group's size, so its merged rows are listed again as one fragment of its `records`, to grow with
 * the small writes that follow into a full group.
 */
export type Batch = { fragments: Fragment[]; records: number; relist: boolean };

/**
 * Consecutive fragments, cut into batches of at most `groupSize` records and `span` ids. The last
 * batch stays open (more small writes may join it) until it holds `mergeAt` records.
 */
export function planBatches(fragments: readonly Fragment[], limits: CompactionLimits): Batch[] {
  const batches: Batch[] = [];
  let current: Batch = { fragments: [], records: 0, relist: false };
  for (const fragment of fragments) {
    const start = current.fragments[0];
    if (start && (current.records + fragment.n > limits.groupSize || fragment.last_id - start.first_id >= limits.span)) {
      batches.push(current);
      current = { fragments: [], records: 0, relist: false };
    }
    current.fragments.push(fragment);
    current.records += fragment.n;
  }
  if (current.records >= limits.mergeAt) batches.push({ ...current, relist: current.records < limits.groupSize });
  return batches;
}

/** What a pass did: batches merged, posting rows merged away, and rows they were merged into. */
export type CompactionResult = { batches: number; rowsRead: number; rowsWritten: number };

/**
 * `afterChunk` runs inside a batch's transaction after each chunk of trigrams is rewritten (the
 * crash test stops a process there, midway through a merge).
 */
export function createIndexCompactor({ db, limits = COMPACTION, afterChunk }: { db: Database; limits?: CompactionLimits; afterChunk?: () => Promise<void> }) {
  const { knex, engine } = db;
  const locking = (builder: Knex.QueryBuilder) => (engine === 'mysql' ? builder.forUpdate().skipLocked() : builder);
  /**
   * Rewrites one chunk of trigrams' rows in [low, high]; returns rows merged away and rows kept.
   * Each trigram's rows, oldest first and up to a group's size, become its first row, updated in
   * place; the others are deleted. Nothing is inserted: an insert over a key just deleted takes gap
   * locks for its duplicate check, and two merges doing that deadlocked in the concurrency test.
   */
  async function mergeChunk(trx: Knex.Transaction, grams: string[], low: number, high: number): Promise<[number, number]> {
    const rows = (await locking(
      trx('title_postings').select('trigram', 'first_id', 'n', 'ids').whereIn('trigram', grams).whereBetween('first_id', [low, high]).orderBy(['trigram', 'first_id']),
    )) as PostingRead[];
    const byGram = new Map<string, PostingRead[]>();
    for (const row of rows) {
      const group = byGram.get(row.trigram);
      if (group) group.push(row);
      else byGram.set(row.trigram, [row]);
    }
    const doomed: Array<[string, number]> = [];
    const kept: Array<{ key: [string, number]; n: number; ids: Buffer }> = [];
    for (const [gram, group] of byGram) {
      // Oldest first, as many as fit in a group (the oldest always).
      let total = 0;
      const taken = group.filter((row, index) => {
        total += Number(row.n);
        return index === 0 || total <= limits.groupSize;
      });
      if (taken.length < 2) continue;
      // The oldest row's first id is the smallest of all: the merged row keeps its key.
      const base = Number((taken[0] as PostingRead).first_id);
      const ids: number[] = [];
      for (const row of taken) decodeIds(Number(row.first_id), row.ids, ids);
      ids.sort((a, b) => a - b);
      kept.push({ key: [gram, base], n: ids.length, ids: encodeIds(base, ids) });
      for (const row of taken.slice(1)) doomed.push([gram, Number(row.first_id)]);
    }
    if (doomed.length === 0) return [0, 0];
    for (let start = 0; start < doomed.length; start += KEYS_PER_STATEMENT) await trx('title_postings').whereIn(['trigram', 'first_id'], doomed.slice(start, start + KEYS_PER_STATEMENT)).delete();
    // A row's key is written three times (two CASEs and the IN list).
    const updateBytes = (row: (typeof kept)[number]) => postingRowBytes(row.key[0], row.ids) + 2 * postingRowBytes(row.key[0], EMPTY) + 64;
    for (const part of runsWithin(kept, ROWS_PER_UPDATE, POSTING_STATEMENT_BYTES, updateBytes)) {
      const cases = (column: 'n' | 'ids') =>
        trx.raw(`case ${part.map(() => 'when trigram = ? and first_id = ? then ?').join(' ')} end`, part.flatMap((row) => [...row.key, row[column]]));
      await trx('title_postings')
        .whereIn(
          ['trigram', 'first_id'],
          part.map((row) => row.key),
        )
        .update({ n: cases('n'), ids: cases('ids') });
    }
    await afterChunk?.();
    return [doomed.length, kept.length];
  }

  /** Merges one batch in one transaction; skips it when another compactor holds any of its fragments. */
  async function mergeBatch({ fragments, records, relist }: Batch): Promise<[number, number] | null> {
    const keys = fragments.map((fragment) => fragment.first_id);
    const low = Math.min(...keys);
    const high = Math.max(...fragments.map((fragment) => fragment.last_id));
    return knex.transaction(
      async (trx) => {
        // One merge at a time across replicas: two merging at once deadlocked on each other's rows.
        const [turn] = await locking(trx('index_merge_lock').select('id').where('id', 1));
        if (!turn) return null;
        const held = await locking(trx('index_fragments').select('first_id').whereIn('first_id', keys));
        if (held.length < fragments.length) return null;
        const titles = (await trx('records').select('title_folded').whereBetween('id', [low, high])) as Array<{ title_folded: string }>;
        const grams = new Set<string>();
        for (const { title_folded } of titles) for (const gram of trigramsOf(title_folded)) grams.add(gram);
        const sorted = [...grams].sort();
        let read = 0;
        let written = 0;
        for (let start = 0; start < sorted.length; start += GRAMS_PER_READ) {
          const [r, w] = await mergeChunk(trx, sorted.slice(start, start + GRAMS_PER_READ), low, high);
          read += r;
          written += w;
        }
        // Listed again as the first fragment, updated in place (no insert over a deleted key).
        if (relist) await trx('index_fragments').where('first_id', low).update({ last_id: high, n: records });
        await trx('index_fragments')
          .whereIn(
            'first_id',
            keys.filter((key) => !relist || key !== low),
          )
          .delete();
        return [read, written] as [number, number];
      },
      engine === 'mysql' ? { isolationLevel: 'read committed' } : {},
    );
  }

  return {
    /** One pass over the listed fragments: every closed batch, and the newest once it is large enough. */
    async compact(): Promise<CompactionResult> {
      const fragments = (await knex('index_fragments').select('first_id', 'last_id', 'n').orderBy('first_id').limit(FRAGMENTS_PER_PASS)) as Array<Record<keyof Fragment, number | string>>;
      const listed = fragments.map((f) => ({ first_id: Number(f.first_id), last_id: Number(f.last_id), n: Number(f.n) }));
      const result: CompactionResult = { batches: 0, rowsRead: 0, rowsWritten: 0 };
      for (const batch of planBatches(listed, limits)) {
        const done = await mergeBatch(batch);
        if (!done) continue;
        result.batches += 1;
        result.rowsRead += done[0];
        result.rowsWritten += done[1];
      }
      return result;
    },
  };
}

export type IndexCompactor = ReturnType<typeof createIndexCompactor>;
