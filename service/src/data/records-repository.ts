import type { Knex } from 'knex';
import type { Position } from '../domain/cursor.js';
import { Unavailable } from '../domain/errors.js';
import type { NewRecord, StoredRecord } from '../domain/record.js';
import type { SearchQuery } from '../domain/search-query.js';
import { containsPattern, foldText, foldUri, LIKE_ESCAPE } from '../domain/text.js';
import type { Database } from './database.js';

export type SearchPage = { records: StoredRecord[]; next: Position | null };

export type RecordsRepository = {
  /** Stores all records in one transaction and returns their ids in the same order. */
  insertMany(records: NewRecord[]): Promise<number[]>;
  findById(id: number): Promise<StoredRecord | null>;
  search(query: SearchQuery): Promise<SearchPage>;
};

type RecordRow = { id: number; title: string | null; uri: string | null; date_ms: number | string; date_raw: string };

const COLUMNS = ['id', 'title', 'uri', 'date_ms', 'date_raw'] as const;

function fromRow(row: RecordRow): StoredRecord {
  return { id: Number(row.id), title: row.title, uri: row.uri, dateMs: Number(row.date_ms), dateRaw: row.date_raw };
}

function toRow(record: NewRecord) {
  return {
    title: record.title,
    uri: record.uri,
    date_ms: record.dateMs,
    date_raw: record.dateRaw,
    title_folded: foldText(record.title ?? ''),
    uri_folded: foldUri(record.uri ?? ''),
  };
}

/** Any failure inside the database is an outage from the client's point of view: retry later. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new Unavailable('The database could not complete the request; nothing was changed.', [], {}, { cause: error });
  }
}

export function createRecordsRepository({ db, batchSize = 500 }: { db: Database; batchSize?: number }): RecordsRepository {
  const { knex, engine } = db;

  /**
   * One multi-row INSERT gets consecutive ids: MySQL/MariaDB allocate a "simple insert" as one
   * block in every innodb_autoinc_lock_mode (with auto_increment_increment = 1) and report the
   * first; SQLite runs the statement alone inside the transaction and reports the last.
   */
  async function insertBatch(trx: Knex.Transaction, batch: NewRecord[]): Promise<number[]> {
    const [reported] = (await trx('records').insert(batch.map(toRow))) as number[];
    const first = engine === 'mysql' ? Number(reported) : Number(reported) - batch.length + 1;
    return batch.map((_, offset) => first + offset);
  }

  return {
    insertMany: (records) =>
      guarded(() =>
        knex.transaction(async (trx) => {
          const ids: number[] = [];
          for (let start = 0; start < records.length; start += batchSize) {
            ids.push(...(await insertBatch(trx, records.slice(start, start + batchSize))));
          }
          return ids;
        }),
      ),

    findById: (id) =>
      guarded(async () => {
        const row = (await knex('records').select(COLUMNS).where({ id }).first()) as RecordRow | undefined;
        return row ? fromRow(row) : null;
      }),

    search: (query) =>
      guarded(async () => {
        const builder = knex('records')
          .select(COLUMNS)
          .orderBy([{ column: 'date_ms' }, { column: 'id' }])
          .limit(query.limit + 1);
        if (query.after !== null) builder.where('date_ms', '>=', query.after);
        if (query.before !== null) builder.where('date_ms', '<', query.before);
        if (query.contains !== null) {
          builder.whereRaw(`title_folded like ? escape '${LIKE_ESCAPE}'`, [containsPattern(query.contains)]);
        }
        if (query.uri !== null) {
          builder.whereRaw(`uri_folded like ? escape '${LIKE_ESCAPE}'`, [containsPattern(query.uri)]);
        }
        const cursor = query.cursor;
        if (cursor !== null) {
          builder.where((after) =>
            after.where('date_ms', '>', cursor.dateMs).orWhere((same) => same.where('date_ms', cursor.dateMs).where('id', '>', cursor.id)),
          );
        }
        const rows = ((await builder) as RecordRow[]).map(fromRow);
        const records = rows.slice(0, query.limit);
        const last = records.at(-1);
        const next = rows.length > query.limit && last ? { dateMs: last.dateMs, id: last.id } : null;
        return { records, next };
      }),
  };
}
