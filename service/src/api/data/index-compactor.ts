import type { Knex } from 'knex';
import { trigramsOf } from '../domain/trigrams.js';
import type { Database } from './database.js';
import { insertRows } from './insert-rows.js';
import { FRAGMENT_BELOW, POSTING_GROUP } from './index-writer.js';
import { decodeIds, encodeIds, POSTING_COLUMNS } from './postings.js';

/**
 * Merges the posting rows of small writes (fragments, listed in `index_fragments`) into groups as
 * large as a bulk load writes, so an index fed a few records at a time stays as compact and as
 * selective as a bulk-loaded one (docs/search-index.md, "Small writes").
 *
 * Exact by construction: one transaction per batch reads rows, deletes exactly those rows and
 * inserts their ids again as fewer rows; it commits or rolls back whole. On MySQL/MariaDB it reads
 * at READ COMMITTED with `FOR UPDATE SKIP LOCKED`: no gap locks (writers inserting new rows never
 * wait), and rows another compactor or an open write holds are left out of the merge, not waited for.
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
export const COMPACTION: CompactionLimits = { groupSize: POSTING_GROUP, mergeAt: 2 * FRAGMENT_BELOW, span: 8 * POSTING_GROUP };

/** Fragments read per pass. */
const FRAGMENTS_PER_PASS = 5000;
/** Trigrams whose rows one statement reads. */
const GRAMS_PER_READ = 500;

/**
 * Consecutive fragments, cut into batches of at most `groupSize` records and `span` ids. The last
 * batch stays open (more small writes may join it) until it holds `mergeAt` records.
 */
export function planBatches(fragments: readonly Fragment[], limits: CompactionLimits): Fragment[][] {
  const batches: Fragment[][] = [];
  let current: Fragment[] = [];
  let records = 0;
  for (const fragment of fragments) {
    const start = current[0];
    if (start && (records + fragment.n > limits.groupSize || fragment.last_id - start.first_id >= limits.span)) {
      batches.push(current);
      current = [];
      records = 0;
    }
    current.push(fragment);
    records += fragment.n;
  }
  if (records >= limits.mergeAt) batches.push(current);
  return batches;
}

/** What a pass did: batches merged, posting rows before and after. */
export type CompactionResult = { batches: number; rowsRead: number; rowsWritten: number };

/**
 * `afterChunk` runs inside a batch's transaction after each chunk of trigrams is rewritten (the
 * crash test stops a process there, midway through a merge).
 */
export function createIndexCompactor({ db, limits = COMPACTION, afterChunk }: { db: Database; limits?: CompactionLimits; afterChunk?: () => Promise<void> }) {
  const { knex, engine } = db;
  const locking = (builder: Knex.QueryBuilder) => (engine === 'mysql' ? builder.forUpdate().skipLocked() : builder);

  /** Rewrites one chunk of trigrams' rows in [low, high]; returns rows read and written. */
  async function mergeChunk(trx: Knex.Transaction, grams: string[], low: number, high: number): Promise<[number, number]> {
    const rows = (await locking(trx('title_postings').select('trigram', 'first_id', 'ids').whereIn('trigram', grams).whereBetween('first_id', [low, high]))) as Array<{
      trigram: string;
      first_id: number | string;
      ids: Uint8Array;
    }>;
    const byGram = new Map<string, Array<(typeof rows)[number]>>();
    for (const row of rows) {
      const group = byGram.get(row.trigram);
      if (group) group.push(row);
      else byGram.set(row.trigram, [row]);
    }
    const doomed: Array<[string, number]> = [];
    const merged: Array<[string, number, number, Buffer]> = [];
    for (const [gram, group] of byGram) {
      if (group.length < 2) continue;
      const ids: number[] = [];
      for (const row of group) decodeIds(Number(row.first_id), row.ids, ids);
      ids.sort((a, b) => a - b);
      for (const row of group) doomed.push([gram, Number(row.first_id)]);
      for (let start = 0; start < ids.length; start += limits.groupSize) {
        const part = ids.slice(start, start + limits.groupSize);
        const first = part[0] as number;
        merged.push([gram, first, part.length, encodeIds(first, part)]);
      }
    }
    if (doomed.length === 0) return [0, 0];
    await trx('title_postings').whereIn(['trigram', 'first_id'], doomed).delete();
    for (let start = 0; start < merged.length; start += 500) await insertRows(trx, engine, 'title_postings', POSTING_COLUMNS, merged.slice(start, start + 500));
    await afterChunk?.();
    return [doomed.length, merged.length];
  }

  /** Merges one batch in one transaction; skips it when another compactor holds any of its fragments. */
  async function mergeBatch(batch: Fragment[]): Promise<[number, number] | null> {
    const keys = batch.map((fragment) => fragment.first_id);
    const low = Math.min(...keys);
    const high = Math.max(...batch.map((fragment) => fragment.last_id));
    return knex.transaction(
      async (trx) => {
        const held = await locking(trx('index_fragments').select('first_id').whereIn('first_id', keys));
        if (held.length < batch.length) return null;
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
        await trx('index_fragments').whereIn('first_id', keys).delete();
        return [read, written] as [number, number];
      },
      engine === 'mysql' ? { isolationLevel: 'read committed' } : {},
    );
  }

  return {
    /** One pass over the listed fragments: every closed batch, and the newest once it is large enough. */
    async compact(): Promise<CompactionResult> {
      const fragments = (await knex('index_fragments').select('first_id', 'last_id', 'n').orderBy('first_id').limit(FRAGMENTS_PER_PASS)) as Array<Record<keyof Fragment, number | string>>;
      const batches = planBatches(
        fragments.map((f) => ({ first_id: Number(f.first_id), last_id: Number(f.last_id), n: Number(f.n) })),
        limits,
      );
      const result: CompactionResult = { batches: 0, rowsRead: 0, rowsWritten: 0 };
      for (const batch of batches) {
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
