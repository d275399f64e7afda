import type { Knex } from 'knex';
import type { SearchIndex } from '../domain/ports.js';
import type { SearchQuery } from '../domain/search-query.js';
import { containsPattern, LIKE_ESCAPE } from '../domain/text.js';
import { GRAM, trigramsOf } from '../domain/trigrams.js';
import type { Database, ReadLimits, ReadStatement } from './database.js';
import { annotateSpan } from '../observability/traces.js';
import { Abandoned, SearchTooBroad } from '../domain/errors.js';
import { guarded } from './guarded.js';
import { decodeIds } from './postings.js';
import { COLUMNS, fromRow, type RecordRow } from './record-rows.js';
import { isTimeLimit } from './time-limit.js';

/**
 * Search over the records table: a `contains` term is answered from the title_postings index
 * (data/postings.ts) or by a scan of the (date_ms, id) index, whichever the planner estimates
 * cheaper; both give exactly the scan's results (tests/service/search-index.test.ts checks it on
 * both engines).
 */

/** `auto` lets the planner choose; `scan` and `index` force a path (tests compare them). */
export type SearchStrategy = 'auto' | 'scan' | 'index';

/** One search's reads: each bounded by what is left of the search's time, and by its caller. */
type Reader = { read<Row>(statement: ReadStatement): Promise<Row[]>; deadline: number };

/** Records counted at most when estimating how many fall in a date range. */
const ESTIMATE_CAP = 2000;
/** Posting rows read at most to estimate a trigram; a trigram spread over more is treated as common. */
const ROW_CAP = 2048;
/** Postings above which a trigram is common: the ordered scan finds `limit` matches sooner. */
const ENTRY_CAP = 20_000;
/** Trigrams of a long term sampled for estimates: a few selective ones are enough. */
const MAX_ESTIMATED_GRAMS = 8;
/** Posting lists intersected at most, among those within INTERSECT_WITHIN times the rarest's size. */
const MAX_INTERSECTED = 3;
const INTERSECT_WITHIN = 4;
/** Candidate ids per `id in (...)` recheck query. */
const IDS_PER_QUERY = 1000;
type Estimate = { gram: string; n: number; common: boolean };
type Plan = { path: 'scan' } | { path: 'index'; grams: string[] } | { path: 'empty' };

/**
 * `timeLimitMs` bounds a whole search (every statement gets what is left of it); past it the
 * search is SearchTooBroad. An aborted signal stops the running statement (MySQL/MariaDB).
 */
export function createSearchIndex({ db, timeLimitMs, strategy = 'auto' }: { db: Database; timeLimitMs: number; strategy?: SearchStrategy }): SearchIndex {
  const { knex } = db;

  function readerFor(signal: AbortSignal | undefined): Reader {
    const deadline = Date.now() + timeLimitMs;
    // Async, so running out of time rejects (never throws while sibling reads are in flight).
    const read = async <Row>(statement: ReadStatement): Promise<Row[]> => {
      const left = deadline - Date.now();
      if (left <= 0) throw tooBroad();
      const limits: ReadLimits = { timeLimitMs: left, signal };
      return db.select<Row>(statement, limits);
    };
    return { read, deadline };
  }

  const tooBroad = () =>
    new SearchTooBroad(`The search ran past its time limit of ${timeLimitMs} ms and was stopped: narrow it with a date range (after, before) or a longer contains term.`, [
      { parameter: 'contains', detail: 'terms under 3 characters, and common ones, scan the date range' },
      { parameter: 'uri', detail: 'a uri filter scans the date range' },
    ]);

  /** Rows matching `where`, counted up to ESTIMATE_CAP (an index range scan of bounded length). */
  async function cappedCount({ read }: Reader, build: (builder: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<number> {
    const inner = build(knex.select(knex.raw('1'))).limit(ESTIMATE_CAP).as('capped');
    const [row] = await read<{ n: number | string }>(knex.count({ n: '*' }).from(inner));
    return Number(row?.n ?? 0);
  }

  /** How many titles contain `gram`, from at most ROW_CAP of its posting rows (their `n` only). */
  async function estimate({ read }: Reader, gram: string): Promise<Estimate> {
    const inner = knex.select('n').from('title_postings').where('trigram', gram).limit(ROW_CAP).as('p');
    const [row] = await read<{ groups: number | string; n: number | string | null }>(knex.select(knex.raw('count(*) as ??, sum(??) as ??', ['groups', 'n', 'n'])).from(inner));
    const n = Number(row?.n ?? 0);
    return { gram, n, common: Number(row?.groups ?? 0) >= ROW_CAP || n >= ENTRY_CAP };
  }

  /**
   * Picks the cheapest way to answer a `contains` search: the posting lists of the rarest trigrams
   * when they are rarer than the date range (and not common), else the (date_ms, id) index in order
   * with the text recheck (`containing`), which stops after `limit` matches.
   */
  async function plan(reader: Reader, query: SearchQuery): Promise<Plan> {
    const term = query.contains;
    if (term === null || Array.from(term).length < GRAM) return { path: 'scan' };
    const all = trigramsOf(term);
    const step = Math.max(1, Math.floor(all.length / MAX_ESTIMATED_GRAMS));
    const sampled = all.filter((_, index) => index % step === 0).slice(0, MAX_ESTIMATED_GRAMS);
    const estimates = await Promise.all(sampled.map((gram) => estimate(reader, gram)));
    estimates.sort((a, b) => Number(a.common) - Number(b.common) || a.n - b.n);
    const rarest = estimates[0];
    if (!rarest || rarest.n === 0) return { path: 'empty' };
    if (rarest.common) return { path: 'scan' };
    if (query.after !== null || query.before !== null) {
      const inRange = await cappedCount(reader, (b) => {
        b.from('records');
        if (query.after !== null) b.where('date_ms', '>=', query.after);
        if (query.before !== null) b.where('date_ms', '<', query.before);
        return b;
      });
      if (inRange < rarest.n) return { path: 'scan' };
    }
    const grams = estimates.filter((e) => !e.common && e.n <= rarest.n * INTERSECT_WITHIN).slice(0, MAX_INTERSECTED);
    return { path: 'index', grams: grams.map((e) => e.gram) };
  }

  /** Every id in the posting lists of `gram`. */
  async function postingsOf({ read }: Reader, gram: string): Promise<number[]> {
    const rows = await read<{ first_id: number | string; ids: Uint8Array }>(knex.select('first_id', 'ids').from('title_postings').where('trigram', gram));
    const ids: number[] = [];
    for (const row of rows) decodeIds(Number(row.first_id), row.ids, ids);
    return ids;
  }

  /** Ids in every one of the grams' posting lists: the titles that may contain the term. */
  async function candidates(reader: Reader, grams: string[]): Promise<number[]> {
    const lists = (await Promise.all(grams.map((gram) => postingsOf(reader, gram)))).sort((a, b) => a.length - b.length);
    let result = lists[0] ?? [];
    for (const list of lists.slice(1)) {
      const present = new Set(list);
      result = result.filter((id) => present.has(id));
    }
    return result;
  }

  /**
   * `column` holds `term` (both folded). SQLite's LIKE stops at a NUL in the pattern or the value,
   * so there a term is found with instr(), which compares the text whole; MySQL and MariaDB's LIKE
   * does not stop.
   */
  function containing(builder: Knex.QueryBuilder, column: string, term: string): void {
    if (db.engine === 'sqlite') builder.whereRaw('instr(??, ?) > 0', [column, term]);
    else builder.whereRaw(`?? like ? escape '${LIKE_ESCAPE}'`, [column, containsPattern(term)]);
  }

  function filtered(builder: Knex.QueryBuilder, query: SearchQuery, alias: string, deadline: number): Knex.QueryBuilder {
    const column = (name: string) => `${alias}.${name}`;
    // First, so SQLite checks the time for every row it visits (time-limit.ts).
    if (db.engine === 'sqlite') builder.whereRaw('within_time_limit(?)', [deadline]);
    if (query.after !== null) builder.where(column('date_ms'), '>=', query.after);
    if (query.before !== null) builder.where(column('date_ms'), '<', query.before);
    if (query.contains !== null) containing(builder, column('title_folded'), query.contains);
    if (query.uri !== null) containing(builder, column('uri_folded'), query.uri);
    const cursor = query.cursor;
    if (cursor !== null) {
      builder.where((after) =>
        after.where(column('date_ms'), '>', cursor.dateMs).orWhere((same) => same.where(column('date_ms'), cursor.dateMs).where(column('id'), '>', cursor.id)),
      );
    }
    return builder.orderBy([{ column: column('date_ms') }, { column: column('id') }]).limit(query.limit + 1);
  }

  /** The candidates rechecked against the query, a chunk of ids at a time, merged in (date, id) order. */
  async function indexed(reader: Reader, query: SearchQuery, grams: string[]): Promise<RecordRow[]> {
    const ids = await candidates(reader, grams);
    const chunks: number[][] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) chunks.push(ids.slice(start, start + IDS_PER_QUERY));
    const pages = await Promise.all(
      chunks.map((chunk) => reader.read<RecordRow>(filtered(knex.select(COLUMNS.map((c) => `r.${c}`)).from('records as r').whereIn('r.id', chunk), query, 'r', reader.deadline))),
    );
    const rows = pages.flat();
    if (pages.length > 1) rows.sort((a, b) => Number(a.date_ms) - Number(b.date_ms) || Number(a.id) - Number(b.id));
    return rows.slice(0, query.limit + 1);
  }

  function scanned(reader: Reader, query: SearchQuery): Promise<RecordRow[]> {
    return reader.read<RecordRow>(filtered(knex.select(COLUMNS.map((c) => `r.${c}`)).from('records as r'), query, 'r', reader.deadline));
  }

  async function searchWith(reader: Reader, query: SearchQuery) {
    let chosen = await (strategy === 'scan' ? { path: 'scan' as const } : plan(reader, query));
    if (strategy === 'index' && chosen.path === 'scan' && query.contains !== null && Array.from(query.contains).length >= GRAM) {
      chosen = { path: 'index', grams: trigramsOf(query.contains).slice(0, MAX_INTERSECTED) };
    }
    annotateSpan({ 'records.search.plan': chosen.path });
    if (chosen.path === 'empty') return { records: [], next: null };
    const found = (chosen.path === 'index' ? await indexed(reader, query, chosen.grams) : await scanned(reader, query)).map(fromRow);
    const records = found.slice(0, query.limit);
    const last = records.at(-1);
    const next = found.length > query.limit && last ? { dateMs: last.dateMs, id: last.id } : null;
    return { records, next };
  }

  return {
    search: (query, signal) =>
      guarded(() =>
        searchWith(readerFor(signal), query).catch((error: unknown) => {
          if (signal?.aborted) throw new Abandoned('The caller went away before its search was answered.', [], {}, { cause: error });
          throw isTimeLimit(error) ? tooBroad() : error;
        }),
      ),
  };
}
