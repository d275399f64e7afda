import type { RecordsStore } from '../domain/ports.js';
import type { Database } from './database.js';
import { guarded, unavailable } from './guarded.js';
import { COLUMNS, fromRow, type RecordRow } from './record-rows.js';
import { openWriteTransaction } from './write-transaction.js';

/** The hottest read, written once instead of built per request. */
const FIND_BY_ID = `select ${COLUMNS.join(', ')} from records where id = ?`;

/**
 * The records table, written in batches within one transaction per request, with the search
 * index kept in the same transaction: index and data commit or roll back together.
 * `postingGroup`: records per posting row group of the search index (tests lower it to cover
 * transactions that write several groups).
 */
export function createRecordsStore({ db, batchSize, postingGroup }: { db: Database; batchSize: number; postingGroup?: number }): RecordsStore {
  const { knex, engine } = db;
  return {
    async inTransaction(work) {
      // What the caller's work raises itself (a 413 from its stream, a 422) rolls back and passes
      // through unchanged; anything else that fails here (begin, rollback, commit) is the database's.
      let workError: unknown = null;
      try {
        return await knex.transaction(async (trx) => {
          const { tx, finish } = openWriteTransaction(trx, { engine, batchSize, postingGroup });
          const result = await work(tx).catch((error: unknown) => {
            workError = error;
            throw error;
          });
          await finish();
          return result;
        });
      } catch (error) {
        if (error === workError) throw error;
        throw unavailable(error);
      }
    },

    findById: (id) =>
      guarded(async () => {
        const [row] = await db.select<RecordRow>({ sql: FIND_BY_ID, bindings: [id] });
        return row ? fromRow(row) : null;
      }),
  };
}
