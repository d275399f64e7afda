import type { Engine } from './engine.js';
import { prepareInsert, type PreparedInsert } from './insert-rows.js';
import { createPostingsBuilder, POSTING_COLUMNS, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from './postings.js';
import { rowsPerStatement } from './record-rows.js';

/** Records whose postings are written as one row per trigram (a group); larger transactions write several. */
export const POSTING_GROUP = 8192;
/**
 * A group of fewer records is a fragment: its rows pay a B-tree row's overhead for one or two
 * postings each, so it is listed in `index_fragments` and merged later (data/index-compactor.ts).
 */
export const FRAGMENT_BELOW = 128;

/** The INSERTs still to run before commit, and how many records they index as fragments. */
export type IndexFlush = { inserts: PreparedInsert[]; fragmentRecords: number };

/**
 * Keeps the search index of one write transaction: titles are collected as they are inserted and
 * turned into posting rows when a group is full and before commit. It touches no database: the
 * transaction runs the INSERTs it returns (data/write-transaction.ts), so index and data commit or
 * roll back together, and the CPU work can run on a worker thread.
 */
export function createIndexWriter(engine: Engine, groupSize = POSTING_GROUP) {
  const builder = createPostingsBuilder();
  const perStatement = rowsPerStatement(engine);
  let fragmentRecords = 0;
  function drain(): PreparedInsert[] {
    if (builder.records === 0) return [];
    const { first, last, records } = builder.span;
    const inserts: PreparedInsert[] = [];
    for (const run of runsWithin(builder.drain(), perStatement, POSTING_STATEMENT_BYTES, (row) => postingRowBytes(row.trigram, row.ids))) {
      inserts.push(prepareInsert(engine, 'title_postings', POSTING_COLUMNS, run.map((row) => [row.trigram, row.first_id, row.n, row.ids])));
    }
    if (records < Math.min(FRAGMENT_BELOW, groupSize)) {
      inserts.push(prepareInsert(engine, 'index_fragments', ['first_id', 'last_id', 'n'], [[first, last, records]]));
      fragmentRecords += records;
    }
    return inserts;
  }
  return {
    /** Adds inserted records (in increasing id order); returns the INSERTs of a group that filled. */
    add(records: Array<{ id: number; titleFolded: string }>): PreparedInsert[] {
      for (const { id, titleFolded } of records) builder.add(id, titleFolded);
      return builder.records >= groupSize ? drain() : [];
    },
    flush(): IndexFlush {
      return { inserts: drain(), fragmentRecords };
    },
  };
}
