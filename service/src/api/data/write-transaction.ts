import type { Knex } from 'knex';
import { batchLength, type WriteTransaction } from '../domain/ports.js';
import type { NewRecord } from '../domain/record.js';
import type { Engine } from './engine.js';
import { guarded } from './guarded.js';
import { rememberIn } from './idempotency-store.js';
import { runInsert } from './insert-rows.js';
import type { HeldPart, PreparerSession } from './preparers.js';
import { rowsPerStatement } from './record-rows.js';

/**
 * What one write transaction touches, in one place: the records table, its search index and the
 * idempotency keys, all on the same `trx`, so they commit or roll back together. The statements
 * come from the transaction's preparer (data/batch-preparer.ts, maybe on a worker thread); this
 * runs them. Each step of the work maps its database failure to Unavailable; `finish` writes
 * what the index still buffers and resolves to the records the transaction indexed as fragments.
 */
export function openWriteTransaction(
  trx: Knex.Transaction,
  { engine, batchSize, preparer }: { engine: Engine; batchSize: number; preparer: PreparerSession },
): { tx: WriteTransaction; finish(): Promise<number> } {
  const recordsPerBatch = Math.min(batchSize, rowsPerStatement(engine));
  return {
    tx: {
      insert: (records) =>
        guarded(async () => {
          const ids: number[] = [];
          const length = batchLength(records);
          for (let start = 0; start < length; start += recordsPerBatch) {
            const end = Math.min(length, start + recordsPerBatch);
            // Held records stay where they are held: the session is told which part to prepare.
            const part = Array.isArray(records) ? records.slice(start, end) : { held: records, start, end };
            ids.push(...(await insertBatch(trx, engine, preparer, part, end - start)));
          }
          return ids;
        }),
      remember: (entry, nowMs) => guarded(() => rememberIn(trx, entry, nowMs)),
    },
    // Outside the work: its failure is the transaction's, which records-store.ts maps.
    finish: async () => {
      const { inserts, fragmentRecords } = await preparer.finish();
      for (const insert of inserts) await runInsert(trx, insert);
      return fragmentRecords;
    },
  };
}

/**
 * One multi-row INSERT gets consecutive ids: MySQL/MariaDB allocate a "simple insert" as one
 * block in every innodb_autoinc_lock_mode (with auto_increment_increment = 1, which start-up
 * checks) and report the first; SQLite runs the statement alone inside the transaction and
 * reports the last.
 */
async function insertBatch(trx: Knex.Transaction, engine: Engine, preparer: PreparerSession, batch: NewRecord[] | HeldPart, count: number): Promise<number[]> {
  const reported = await runInsert(trx, await preparer.records(batch));
  const first = engine === 'mysql' ? reported : reported - count + 1;
  for (const insert of await preparer.inserted(first)) await runInsert(trx, insert);
  return Array.from({ length: count }, (_, offset) => first + offset);
}
