import type { Knex } from 'knex';
import mysql from 'mysql2';
import type { Engine } from './engine.js';

/**
 * One multi-row INSERT of positional rows; returns the id the engine reports (MySQL: the first
 * inserted, SQLite: the last). On MySQL the statement is formatted by mysql2 itself (the same
 * escaping knex hands its bindings to) instead of through knex's query compiler: the compiler was
 * a quarter of the CPU of a bulk load in the profile in docs/performance.md, time the event loop
 * could not serve reads. SQLite keeps knex's insert, which binds parameters.
 */
/** A value a row holds. */
export type Cell = string | number | null | Buffer;

export async function insertRows(trx: Knex.Transaction, engine: Engine, table: string, columns: readonly string[], rows: Cell[][]): Promise<number> {
  if (engine === 'mysql') {
    const sql = mysql.format(`insert into ${table} (${columns.join(', ')}) values ?`, [rows]);
    const [result] = (await trx.raw(sql)) as [{ insertId: number }];
    return Number(result.insertId);
  }
  const objects = rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, row[i]])));
  const [reported] = (await trx(table).insert(objects)) as number[];
  return Number(reported);
}
