import type { Knex } from 'knex';
import type { Position } from '../domain/cursor.js';
import { DomainError, IdempotencyKeyTaken, Unavailable } from '../domain/errors.js';
import type { NewRecord, StoredRecord } from '../domain/record.js';
import type { SearchQuery } from '../domain/search-query.js';
import { containsPattern, foldText, foldUri, LIKE_ESCAPE } from '../domain/text.js';
import { GRAM, trigramsOf } from '../domain/trigrams.js';
import type { Database } from './database.js';

export type SearchPage = { records: StoredRecord[]; next: Position | null };

/** A stored response for an Idempotency-Key. */
export type IdempotentResponse = { scope: string; key: string; requestHash: string; status: number; response: string; expiresAtMs: number };

/** What a transaction's work can do: store records, and remember the response it will give. */
export type TransactionContext = {
  insert(records: NewRecord[]): Promise<number[]>;
  /** Throws IdempotencyKeyTaken when another request committed the same key first. */
  remember(entry: IdempotentResponse): Promise<void>;
};

/** `auto` lets the planner choose; `scan` and `index` force a path (tests compare them). */
export type SearchStrategy = 'auto' | 'scan' | 'index';

export type RecordsRepository = {
  /** Stores all records in one transaction and returns their ids in the same order. */
  insertMany(records: NewRecord[]): Promise<number[]>;
  /**
   * Runs `work` in one transaction with an `insert` that stores a batch and returns its ids;
   * for streams too large to hold in memory. Nothing is stored unless `work` resolves.
   */
  inTransaction<T>(work: (tx: TransactionContext) => Promise<T>): Promise<T>;
  /** The unexpired response stored for (scope, key), if any. */
  findResponse(scope: string, key: string, nowMs: number): Promise<IdempotentResponse | null>;
  findById(id: number): Promise<StoredRecord | null>;
  search(query: SearchQuery, strategy?: SearchStrategy): Promise<SearchPage>;
};

/** Rows counted at most when estimating how selective a trigram or a date range is. */
const ESTIMATE_CAP = 2000;
/** Trigrams of a long term sampled for estimates: a few selective ones are enough. */
const MAX_ESTIMATED_GRAMS = 8;

type RecordRow = { id: number; title: string | null; uri: string | null; date_ms: number | string; date_raw: string };

const COLUMNS = ['id', 'title', 'uri', 'date_ms', 'date_raw'] as const;
/** The hottest read, written once instead of built per request. */
const FIND_BY_ID = `select ${COLUMNS.join(', ')} from records where id = ?`;

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

/**
 * Any failure inside the database is an outage from the client's point of view: retry later.
 * `passThrough` errors (a caller's own, raised inside a transaction) keep their meaning.
 */
async function guarded<T>(work: () => Promise<T>, passThrough: (error: unknown) => boolean = () => false): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DomainError || passThrough(error)) throw error;
    throw new Unavailable('The database could not complete the request; nothing was changed.', [], {}, { cause: error });
  }
}

export function createRecordsRepository({ db, batchSize = 500 }: { db: Database; batchSize?: number }): RecordsRepository {
  const { knex, engine } = db;
  // knex writes SQLite multi-row inserts as a compound SELECT, which SQLite caps at 500 terms.
  const rowsPerStatement = engine === 'sqlite' ? 500 : 4000;
  const recordsPerBatch = Math.min(batchSize, rowsPerStatement);

  /**
   * One multi-row INSERT gets consecutive ids: MySQL/MariaDB allocate a "simple insert" as one
   * block in every innodb_autoinc_lock_mode (with auto_increment_increment = 1) and report the
   * first; SQLite runs the statement alone inside the transaction and reports the last.
   */
  async function insertBatch(trx: Knex.Transaction, batch: NewRecord[]): Promise<number[]> {
    const rows = batch.map(toRow);
    const [reported] = (await trx('records').insert(rows)) as number[];
    const first = engine === 'mysql' ? Number(reported) : Number(reported) - batch.length + 1;
    const ids = batch.map((_, offset) => first + offset);
    // Built one statement at a time, so a large batch never holds the event loop (and the reads
    // waiting on it) for longer than one statement's worth of trigrams.
    let entries: Array<{ trigram: string; record_id: number }> = [];
    for (const [offset, row] of rows.entries()) {
      for (const trigram of trigramsOf(row.title_folded)) {
        entries.push({ trigram, record_id: ids[offset] as number });
        if (entries.length === rowsPerStatement) {
          await trx('title_trigrams').insert(entries);
          entries = [];
        }
      }
    }
    if (entries.length > 0) await trx('title_trigrams').insert(entries);
    return ids;
  }

  const insertAll = async (trx: Knex.Transaction, records: NewRecord[]) => {
    const ids: number[] = [];
    for (let start = 0; start < records.length; start += recordsPerBatch) {
      ids.push(...(await insertBatch(trx, records.slice(start, start + recordsPerBatch))));
    }
    return ids;
  };

  /**
   * Inserts the key's row. A duplicate (or, on InnoDB, a deadlock between two inserts of the same
   * key) means another request holds the key: IdempotencyKeyTaken, so the caller replays it. An
   * expired row is replaced. No DELETE runs first: its gap lock would make racing inserts deadlock.
   */
  async function remember(trx: Knex.Transaction, entry: IdempotentResponse): Promise<void> {
    const row = {
      scope: entry.scope,
      idempotency_key: entry.key,
      request_hash: entry.requestHash,
      status: entry.status,
      response: entry.response,
      expires_at_ms: entry.expiresAtMs,
    };
    try {
      await trx('idempotency_keys').insert(row);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      const taken = code === 'ER_DUP_ENTRY' || code === 'ER_LOCK_DEADLOCK' || code.startsWith('SQLITE_CONSTRAINT');
      if (!taken) throw error;
      if (code === 'ER_LOCK_DEADLOCK') throw new IdempotencyKeyTaken('Another request with this Idempotency-Key finished first.');
      // Only an expired row may be taken over; racing requests see a deadlock here, which is the same answer.
      const expired = await trx('idempotency_keys')
        .where({ scope: entry.scope, idempotency_key: entry.key })
        .where('expires_at_ms', '<', Date.now())
        .update({ request_hash: row.request_hash, status: row.status, response: row.response, expires_at_ms: row.expires_at_ms })
        .catch((updateError: { code?: string }) => {
          if (updateError.code === 'ER_LOCK_DEADLOCK') return 0;
          throw updateError;
        });
      if (expired === 0) throw new IdempotencyKeyTaken('Another request with this Idempotency-Key finished first.');
    }
  }

  /** Rows matching `where`, counted up to ESTIMATE_CAP (an index range scan of bounded length). */
  async function cappedCount(build: (builder: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<number> {
    const inner = build(knex.select(knex.raw('1'))).limit(ESTIMATE_CAP).as('capped');
    const [row] = await db.select<{ n: number | string }>(knex.count({ n: '*' }).from(inner));
    return Number(row?.n ?? 0);
  }

  /**
   * Picks the cheapest way to answer a `contains` search: the trigram index when its rarest
   * trigram is rarer than the date range (and not present in nearly every title), else the
   * (date_ms, id) index in order with the LIKE recheck, which stops after `limit` matches.
   */
  async function plan(query: SearchQuery): Promise<{ path: 'scan' } | { path: 'index'; grams: string[] } | { path: 'empty' }> {
    const term = query.contains;
    if (term === null || Array.from(term).length < GRAM) return { path: 'scan' };
    const all = trigramsOf(term);
    const step = Math.max(1, Math.floor(all.length / MAX_ESTIMATED_GRAMS));
    const sampled = all.filter((_, index) => index % step === 0).slice(0, MAX_ESTIMATED_GRAMS);
    const counted = await Promise.all(
      sampled.map(async (gram) => ({ gram, n: await cappedCount((b) => b.from('title_trigrams').where('trigram', gram)) })),
    );
    counted.sort((a, b) => a.n - b.n);
    const rarest = counted[0];
    if (!rarest || rarest.n === 0) return { path: 'empty' };
    if (rarest.n >= ESTIMATE_CAP) return { path: 'scan' };
    if (query.after !== null || query.before !== null) {
      const inRange = await cappedCount((b) => {
        b.from('records');
        if (query.after !== null) b.where('date_ms', '>=', query.after);
        if (query.before !== null) b.where('date_ms', '<', query.before);
        return b;
      });
      if (inRange < rarest.n) return { path: 'scan' };
    }
    return { path: 'index', grams: counted.slice(0, 2).map((entry) => entry.gram) };
  }

  function filtered(builder: Knex.QueryBuilder, query: SearchQuery, alias: string): Knex.QueryBuilder {
    const column = (name: string) => `${alias}.${name}`;
    if (query.after !== null) builder.where(column('date_ms'), '>=', query.after);
    if (query.before !== null) builder.where(column('date_ms'), '<', query.before);
    if (query.contains !== null) {
      builder.whereRaw(`?? like ? escape '${LIKE_ESCAPE}'`, [column('title_folded'), containsPattern(query.contains)]);
    }
    if (query.uri !== null) builder.whereRaw(`?? like ? escape '${LIKE_ESCAPE}'`, [column('uri_folded'), containsPattern(query.uri)]);
    const cursor = query.cursor;
    if (cursor !== null) {
      builder.where((after) =>
        after
          .where(column('date_ms'), '>', cursor.dateMs)
          .orWhere((same) => same.where(column('date_ms'), cursor.dateMs).where(column('id'), '>', cursor.id)),
      );
    }
    return builder.orderBy([{ column: column('date_ms') }, { column: column('id') }]).limit(query.limit + 1);
  }

  /** Candidates from the rarest trigrams (joined in that order), rechecked and sorted. */
  function indexedQuery(query: SearchQuery, grams: string[]): Knex.QueryBuilder {
    // STRAIGHT_JOIN (MySQL) and CROSS JOIN (SQLite) keep the join order: rarest trigram first.
    const join = engine === 'mysql' ? 'straight_join' : 'cross join';
    const from = grams.map((_, i) => (i === 0 ? 'title_trigrams g0' : `${join} title_trigrams g${i}`)).join(' ');
    const builder = knex
      .select(COLUMNS.map((name) => `r.${name}`))
      .from(knex.raw(`${from} ${join} records r`))
      .whereRaw('r.id = g0.record_id');
    grams.forEach((gram, i) => {
      builder.where(`g${i}.trigram`, gram);
      if (i > 0) builder.whereRaw(`g${i}.record_id = g0.record_id`);
    });
    return filtered(builder, query, 'r');
  }

  return {
    insertMany: (records) => guarded(() => knex.transaction((trx) => insertAll(trx, records))),

    inTransaction: (work) => {
      // Errors the caller's work raises itself (a 413 from its stream, a 422) roll back and pass through.
      const own = new WeakSet<object>();
      return guarded(
        () =>
          knex.transaction(async (trx) => {
            try {
              return await work({
                insert: (records) => guarded(() => insertAll(trx, records)),
                remember: (entry) => guarded(() => remember(trx, entry)),
              });
            } catch (error) {
              if (typeof error === 'object' && error !== null) own.add(error);
              throw error;
            }
          }),
        (error) => typeof error === 'object' && error !== null && own.has(error),
      );
    },

    findResponse: (scope, key, nowMs) =>
      guarded(async () => {
        const row = (await knex('idempotency_keys').where({ scope, idempotency_key: key }).where('expires_at_ms', '>=', nowMs).first()) as
          | { request_hash: string; status: number; response: string; expires_at_ms: number | string }
          | undefined;
        return row
          ? { scope, key, requestHash: row.request_hash, status: Number(row.status), response: row.response, expiresAtMs: Number(row.expires_at_ms) }
          : null;
      }),

    findById: (id) =>
      guarded(async () => {
        const [row] = await db.select<RecordRow>({ sql: FIND_BY_ID, bindings: [id] });
        return row ? fromRow(row) : null;
      }),

    search: (query, strategy = 'auto') =>
      guarded(async () => {
        let chosen = await (strategy === 'scan' ? { path: 'scan' as const } : plan(query));
        if (strategy === 'index' && chosen.path === 'scan' && query.contains !== null && Array.from(query.contains).length >= GRAM) {
          chosen = { path: 'index', grams: trigramsOf(query.contains).slice(0, 2) };
        }
        if (chosen.path === 'empty') return { records: [], next: null };
        const builder =
          chosen.path === 'index' ? indexedQuery(query, chosen.grams) : filtered(knex.select(COLUMNS.map((c) => `r.${c}`)).from('records as r'), query, 'r');
        const rows = (await db.select<RecordRow>(builder)).map(fromRow);
        const records = rows.slice(0, query.limit);
        const last = records.at(-1);
        const next = rows.length > query.limit && last ? { dateMs: last.dateMs, id: last.id } : null;
        return { records, next };
      }),
  };
}
