import type { RecordsStore } from '../domain/ports.js';
import type { Database } from './database.js';
import { guarded, unavailable } from './guarded.js';
import { inlinePreparers, lazySession, type Preparers } from './preparers.js';
import { COLUMNS, fromRow, type RecordRow } from './record-rows.js';
import { openWriteTransaction } from './write-transaction.js';

/** The hottest read, written once instead of built per request, and prepared once per connection. */
const FIND_BY_ID = `select ${COLUMNS.join(', ')} from records where id = ?`;

/**
 * The records table, written in batches within one transaction per request, with the search
 * index kept in the same transaction: index and data commit or roll back together.
 * `postingGroup`: records per posting row group of the search index (tests lower it to cover
 * transactions that write several groups). `onFragments` hears, after each commit, how many
 * records it indexed as fragments (the compactor merges them once enough have gathered).
 * `preparers`: where each transaction's CPU work runs (a worker pool in the service).
 */
export function createRecordsStore({
  db,
  batchSize,
  postingGroup,
  onFragments,
  preparers = inlinePreparers(),
}: {
  db: Database;
  batchSize: number;
  postingGroup?: number;
  onFragments?: (records: number) => void;
  preparers?: Preparers;
}): RecordsStore {
  const { knex, engine } = db;
  return {
    async inTransaction(work) {
      // What the caller's work raises itself (a 413 from its stream, a 422) rolls back and passes
      // through unchanged; anything else that fails here (begin, rollback, commit) is the database's.
      let workError: unknown = null;
      let fragments = 0;
      const preparer = lazySession((near) => preparers.open({ engine, groupSize: postingGroup }, near));
      try {
        const result = await knex.transaction(async (trx) => {
          const { tx, finish } = openWriteTransaction(trx, { engine, batchSize, preparer });
          const done = await work(tx).catch((error: unknown) => {
            workError = error;
            throw error;
          });
          fragments = await finish();
          return done;
        });
        if (fragments > 0) onFragments?.(fragments);
        return result;
      } catch (error) {
        if (error === workError) throw error;
        throw unavailable(error);
      } finally {
        preparer.close();
      }
    },

    findById: (id) =>
      guarded(async () => {
        const [row] = await db.select<RecordRow>({ sql: FIND_BY_ID, bindings: [id], prepared: true });
        return row ? fromRow(row) : null;
      }),
  };
}
