import type { Knex } from 'knex';
import mysql from 'mysql2';
import type { Engine } from './engine.js';

/** A value a row holds (a Buffer comes back from a worker thread as a Uint8Array; both bind as bytes). */
export type Cell = string | number | null | Buffer | Uint8Array;

/**
 * One multi-row INSERT, ready to run and plain data, so a worker thread can build it
 * (data/preparer-pool.ts): on MySQL the statement formatted by mysql2 itself (the same escaping
 * knex hands its bindings to) instead of through knex's query compiler, which was a quarter of
 * the CPU of a bulk load in the profile in docs/performance.md; on SQLite the rows, which knex
 * binds as parameters.
 */
export type PreparedInsert = { table: string; sql: string } | { table: string; columns: readonly string[]; rows: Cell[][] };

export function prepareInsert(engine: Engine, table: string, columns: readonly string[], rows: Cell[][]): PreparedInsert {
  if (engine === 'mysql') return { table, sql: mysql.format(`insert into ${table} (${columns.join(', ')}) values ?`, [rows]) };
  return { table, columns, rows };
}

/** Runs a prepared INSERT; returns the id the engine reports (MySQL: the first inserted, SQLite: the last). */
export async function runInsert(trx: Knex.Transaction, prepared: PreparedInsert): Promise<number> {
  if ('sql' in prepared) {
    const [result] = (await trx.raw(prepared.sql)) as [{ insertId: number }];
    return Number(result.insertId);
  }
  const { columns, rows } = prepared;
  const objects = rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, row[i]])));
  const [reported] = (await trx(prepared.table).insert(objects)) as number[];
  return Number(reported);
}
