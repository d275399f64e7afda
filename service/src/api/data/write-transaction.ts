import type { Knex } from 'knex';
import type { WriteTransaction } from '../domain/ports.js';
import type { NewRecord } from '../domain/record.js';
import type { Engine } from './engine.js';
import { guarded } from './guarded.js';
import { rememberIn } from './idempotency-store.js';
import { insertRows } from './insert-rows.js';
import { INSERT_COLUMNS, rowsPerStatement, toRow } from './record-rows.js';
import { createIndexWriter, type IndexWriter } from './index-writer.js';

/**
 * What one write transaction touches, in one place: the records table, its search index and the
 * idempotency keys, all on the same `trx`, so they commit or roll back together. Each step of the
 * work maps its database failure to Unavailable; `finish` writes what the index still buffers and
 * resolves to the records the transaction indexed as fragments (index-writer.ts).
 */
export function openWriteTransaction(
  trx: Knex.Transaction,
  { engine, batchSize, postingGroup }: { engine: Engine; batchSize: number; postingGroup?: number | undefined },
): { tx: WriteTransaction; finish(): Promise<number> } {
  const index = createIndexWriter(trx, engine, postingGroup);
  const recordsPerBatch = Math.min(batchSize, rowsPerStatement(engine));
  return {
    tx: {
      insert: (records) =>
        guarded(async () => {
          const ids: number[] = [];
          for (let start = 0; start < records.length; start += recordsPerBatch) {
            ids.push(...(await insertBatch(trx, engine, index, records.slice(start, start + recordsPerBatch))));
          }
          return ids;
        }),
      remember: (entry, nowMs) => guarded(() => rememberIn(trx, entry, nowMs)),
    },
    // Outside the work: its failure is the transaction's, which records-store.ts maps.
    finish: () => index.flush(),
  };
}

/**
 * One multi-row INSERT gets consecutive ids: MySQL/MariaDB allocate a "simple insert" as one
 * block in every innodb_autoinc_lock_mode (with auto_increment_increment = 1, which start-up
 * checks) and report the first; SQLite runs the statement alone inside the transaction and
 * reports the last.
 */
async function insertBatch(trx: Knex.Transaction, engine: Engine, index: IndexWriter, batch: NewRecord[]): Promise<number[]> {
  const rows = batch.map(toRow);
  const reported = await insertRows(trx, engine, 'records', INSERT_COLUMNS, rows);
  const first = engine === 'mysql' ? reported : reported - batch.length + 1;
  const ids = batch.map((_, offset) => first + offset);
  await index.add(rows.map((row, offset) => ({ id: ids[offset] as number, titleFolded: row[4] })));
  return ids;
}
