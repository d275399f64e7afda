import type { NewRecord, StoredRecord } from '../domain/record.js';
import { foldText, foldUri } from '../domain/text.js';

/** The records table's columns, and the mapping between its rows and the domain's records. */

export type RecordRow = { id: number; title: string | null; uri: string | null; date_ms: number | string; date_raw: string };

export const COLUMNS = ['id', 'title', 'uri', 'date_ms', 'date_raw'] as const;

export function fromRow(row: RecordRow): StoredRecord {
  return { id: Number(row.id), title: row.title, uri: row.uri, dateMs: Number(row.date_ms), dateRaw: row.date_raw };
}

/** The row to insert, with the folded columns searches match against. */
export function toRow(record: NewRecord) {
  return {
    title: record.title,
    uri: record.uri,
    date_ms: record.dateMs,
    date_raw: record.dateRaw,
    title_folded: foldText(record.title ?? ''),
    uri_folded: foldUri(record.uri ?? ''),
  };
}

/** Rows per INSERT: knex writes SQLite multi-row inserts as a compound SELECT, capped at 500 terms. */
export const rowsPerStatement = (engine: 'mysql' | 'sqlite') => (engine === 'sqlite' ? 500 : 4000);
