import { TITLE_MAX_LENGTH, URI_MAX_LENGTH, type NewRecord, type StoredRecord } from '../domain/record.js';
import { foldText, foldUri } from '../domain/text.js';
import type { Engine } from './engine.js';

/** The records table's columns, and the mapping between its rows and the domain's records. */

export type RecordRow = { id: number; title: string | null; uri: string | null; date_ms: number | string; date_raw: string };

export const COLUMNS = ['id', 'title', 'uri', 'date_ms', 'date_raw'] as const;

export function fromRow(row: RecordRow): StoredRecord {
  return { id: Number(row.id), title: row.title, uri: row.uri, dateMs: Number(row.date_ms), dateRaw: row.date_raw };
}

/** The columns an insert writes, in the order of `toRow`'s values. */
export const INSERT_COLUMNS = ['title', 'uri', 'date_ms', 'date_raw', 'title_folded', 'uri_folded'] as const;

/** The row to insert (INSERT_COLUMNS), with the folded columns searches match against. */
export function toRow(record: NewRecord): [string | null, string | null, number, string, string, string] {
  return [record.title, record.uri, record.dateMs, record.dateRaw, foldText(record.title ?? ''), foldUri(record.uri ?? '')];
}

/** Rows per INSERT: knex writes SQLite multi-row inserts as a compound SELECT, capped at 500 terms. */
export const rowsPerStatement = (engine: Engine) => (engine === 'sqlite' ? 500 : 4000);

/**
 * The most bytes one record's row can take in a formatted INSERT: every character at its widest
 * (4 bytes of UTF-8 or escaped; 33 once folded, U+FDFA's NFKD being 18 letters), a 64-character
 * date text, and the punctuation. tests/unit/api/data/record-rows.test.ts checks the widths over
 * every code point and this bound against a formatted row.
 */
export const WIDEST_CHARACTER_BYTES = 4;
export const WIDEST_FOLDED_TITLE_CHARACTER_BYTES = 33;
export const WIDEST_FOLDED_URI_CHARACTER_BYTES = 4;
export const MAX_RECORD_ROW_BYTES =
  TITLE_MAX_LENGTH * (WIDEST_CHARACTER_BYTES + WIDEST_FOLDED_TITLE_CHARACTER_BYTES) +
  URI_MAX_LENGTH * (WIDEST_CHARACTER_BYTES + WIDEST_FOLDED_URI_CHARACTER_BYTES) +
  64 * WIDEST_CHARACTER_BYTES +
  64;
