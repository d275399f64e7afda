import type { Knex } from 'knex';
import type { Engine } from './engine.js';
import { insertRows } from './insert-rows.js';
import { createPostingsBuilder, POSTING_COLUMNS } from './postings.js';
import { rowsPerStatement } from './record-rows.js';

/** Records whose postings are written as one row per trigram (a group); larger transactions write several. */
export const POSTING_GROUP = 8192;
/**
 * A group of fewer records is a fragment: its rows pay a B-tree row's overhead for one or two
 * postings each, so it is listed in `index_fragments` and merged later (data/index-compactor.ts).
 */
export const FRAGMENT_BELOW = 128;

export type IndexWriter = {
  add(records: Array<{ id: number; titleFolded: string }>): Promise<void>;
  /** Writes what is buffered; resolves to the records written as fragments by this transaction. */
  flush(): Promise<number>;
};

/**
 * Keeps the search index of one write transaction: titles are collected as they are inserted and
 * written as posting rows when a group is full and before commit, inside the same transaction, so
 * index and data commit or roll back together.
 */
export function createIndexWriter(trx: Knex.Transaction, engine: Engine, groupSize = POSTING_GROUP): IndexWriter {
  const builder = createPostingsBuilder();
  const perStatement = rowsPerStatement(engine);
  let fragmentRecords = 0;
  async function write(): Promise<void> {
    if (builder.records === 0) return;
    const { first, last, records } = builder.span;
    const rows = builder.drain().map((row) => [row.trigram, row.first_id, row.n, row.ids]);
    for (let start = 0; start < rows.length; start += perStatement) await insertRows(trx, engine, 'title_postings', POSTING_COLUMNS, rows.slice(start, start + perStatement));
    if (records < Math.min(FRAGMENT_BELOW, groupSize)) {
      await insertRows(trx, engine, 'index_fragments', ['first_id', 'last_id', 'n'], [[first, last, records]]);
      fragmentRecords += records;
    }
  }
  return {
    async add(records) {
      for (const { id, titleFolded } of records) builder.add(id, titleFolded);
      if (builder.records >= groupSize) await write();
    },
    async flush() {
      await write();
      return fragmentRecords;
    },
  };
}
