import type { NewRecord } from '../domain/record.js';
import type { Engine } from './engine.js';
import { createIndexWriter, type IndexFlush } from './index-writer.js';
import { prepareInsert, type PreparedInsert } from './insert-rows.js';
import { INSERT_COLUMNS, toRow } from './record-rows.js';

export type PreparerOptions = { engine: Engine; groupSize?: number | undefined };

/**
 * The CPU work of one write transaction, with no database: folding each batch's titles into
 * rows, formatting its INSERT, and, once the batch's ids are known, its posting rows. Called in
 * turn — `records`, run the INSERT, `inserted` with the first id, run what it returns — and
 * `finish` before commit. Synchronous and plain data in and out, so it runs inline or on a
 * worker thread (data/preparers.ts).
 */
export function createBatchPreparer({ engine, groupSize }: PreparerOptions) {
  const index = createIndexWriter(engine, groupSize);
  let pending: string[] = [];
  return {
    records(records: NewRecord[]): PreparedInsert {
      // One batch at a time: the next batch's titles must not be indexed under this one's ids.
      if (pending.length > 0) throw new Error('the previous batch has not been given its ids');
      const rows = records.map(toRow);
      pending = rows.map((row) => row[4]);
      return prepareInsert(engine, 'records', INSERT_COLUMNS, rows);
    },
    /** The last batch got ids `firstId`, `firstId + 1`, ... (one INSERT's ids are consecutive). */
    inserted(firstId: number): PreparedInsert[] {
      const titles = pending;
      pending = [];
      return index.add(titles.map((titleFolded, offset) => ({ id: firstId + offset, titleFolded })));
    },
    finish(): IndexFlush {
      return index.flush();
    },
  };
}

export type BatchPreparer = ReturnType<typeof createBatchPreparer>;
