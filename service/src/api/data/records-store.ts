import type { Knex } from 'knex';
import type { RecordsStore } from '../domain/ports.js';
import type { NewRecord } from '../domain/record.js';
import type { Database } from './database.js';
import { guarded } from './guarded.js';
import { rememberIn } from './idempotency-store.js';
import { insertRows } from './insert-rows.js';
import { COLUMNS, fromRow, INSERT_COLUMNS, rowsPerStatement, toRow, type RecordRow } from './record-rows.js';
import { createIndexWriter, type IndexWriter } from './search-index.js';

/** The hottest read, written once instead of built per request. */
const FIND_BY_ID = `select ${COLUMNS.join(', ')} from records where id = ?`;

/**
 * The records table, written in batches within one transaction per request, with the search
 * index kept in the same transaction: index and data commit or roll back together.
 */
/**
 * `postingGroup`: records per posting row group of the search index (tests lower it to cover
 * transactions that write several groups).
 */
export function createRecordsStore({ db, batchSize, postingGroup }: { db: Database; batchSize: number; postingGroup?: number }): RecordsStore {
  const { knex, engine } = db;
  const recordsPerBatch = Math.min(batchSize, rowsPerStatement(engine));

  /**
   * One multi-row INSERT gets consecutive ids: MySQL/MariaDB allocate a "simple insert" as one
   * block in every innodb_autoinc_lock_mode (with auto_increment_increment = 1) and report the
   * first; SQLite runs the statement alone inside the transaction and reports the last.
   */
  async function insertBatch(trx: Knex.Transaction, index: IndexWriter, batch: NewRecord[]): Promise<number[]> {
    const rows = batch.map(toRow);
    const reported = await insertRows(trx, engine, 'records', INSERT_COLUMNS, rows);
    const first = engine === 'mysql' ? reported : reported - batch.length + 1;
    const ids = batch.map((_, offset) => first + offset);
    await index.add(rows.map((row, offset) => ({ id: ids[offset] as number, titleFolded: row[4] })));
    return ids;
  }

  async function insertAll(trx: Knex.Transaction, index: IndexWriter, records: NewRecord[]): Promise<number[]> {
    const ids: number[] = [];
    for (let start = 0; start < records.length; start += recordsPerBatch) {
      ids.push(...(await insertBatch(trx, index, records.slice(start, start + recordsPerBatch))));
    }
    return ids;
  }

  return {
    inTransaction: (work) => {
      // Errors the caller's work raises itself (a 413 from its stream, a 422) roll back and pass through.
      const own = new WeakSet<object>();
      return guarded(
        () =>
          knex.transaction(async (trx) => {
            const index = createIndexWriter(trx, engine, postingGroup);
            try {
              const result = await work({
                insert: (records) => guarded(() => insertAll(trx, index, records)),
                remember: (entry, nowMs) => guarded(() => rememberIn(trx, entry, nowMs)),
              });
              await guarded(() => index.flush());
              return result;
            } catch (error) {
              if (typeof error === 'object' && error !== null) own.add(error);
              throw error;
            }
          }),
        (error) => typeof error === 'object' && error !== null && own.has(error),
      );
    },

    findById: (id) =>
      guarded(async () => {
        const [row] = await db.select<RecordRow>({ sql: FIND_BY_ID, bindings: [id] });
        return row ? fromRow(row) : null;
      }),
  };
}
