import type { Knex } from 'knex';
import type { SearchIndex } from '../domain/ports.js';
import type { SearchQuery } from '../domain/search-query.js';
import { containsPattern, LIKE_ESCAPE } from '../domain/text.js';
import { GRAM, trigramsOf } from '../domain/trigrams.js';
import type { Database, Engine } from './database.js';
import { guarded } from './guarded.js';
import { COLUMNS, fromRow, rowsPerStatement, type RecordRow } from './record-rows.js';

/**
 * Search over the records table: a `contains` term is answered from the title_trigrams index or
 * by a scan of the (date_ms, id) index, whichever the planner estimates cheaper; both give exactly
 * the scan's results (service/test/search-index.test.ts checks it on both engines).
 */

/** `auto` lets the planner choose; `scan` and `index` force a path (tests compare them). */
export type SearchStrategy = 'auto' | 'scan' | 'index';

/** Rows counted at most when estimating how selective a trigram or a date range is. */
const ESTIMATE_CAP = 2000;
/** Trigrams of a long term sampled for estimates: a few selective ones are enough. */
const MAX_ESTIMATED_GRAMS = 8;

/**
 * Adds the trigrams of newly inserted titles, inside the insert's transaction. Built one statement
 * at a time, so a large batch never holds the event loop (and the reads waiting on it) for longer
 * than one statement's worth of trigrams.
 */
export async function indexTitles(trx: Knex.Transaction, engine: Engine, records: Array<{ id: number; titleFolded: string }>): Promise<void> {
  const perStatement = rowsPerStatement(engine);
  let entries: Array<{ trigram: string; record_id: number }> = [];
  for (const { id, titleFolded } of records) {
    for (const trigram of trigramsOf(titleFolded)) {
      entries.push({ trigram, record_id: id });
      if (entries.length === perStatement) {
        await trx('title_trigrams').insert(entries);
        entries = [];
      }
    }
  }
  if (entries.length > 0) await trx('title_trigrams').insert(entries);
}

export function createSearchIndex({ db, strategy = 'auto' }: { db: Database; strategy?: SearchStrategy }): SearchIndex {
  const { knex, engine } = db;

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
    const counted = await Promise.all(sampled.map(async (gram) => ({ gram, n: await cappedCount((b) => b.from('title_trigrams').where('trigram', gram)) })));
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
        after.where(column('date_ms'), '>', cursor.dateMs).orWhere((same) => same.where(column('date_ms'), cursor.dateMs).where(column('id'), '>', cursor.id)),
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
    search: (query) =>
      guarded(async () => {
        let chosen = await (strategy === 'scan' ? { path: 'scan' as const } : plan(query));
        if (strategy === 'index' && chosen.path === 'scan' && query.contains !== null && Array.from(query.contains).length >= GRAM) {
          chosen = { path: 'index', grams: trigramsOf(query.contains).slice(0, 2) };
        }
        if (chosen.path === 'empty') return { records: [], next: null };
        const builder = chosen.path === 'index' ? indexedQuery(query, chosen.grams) : filtered(knex.select(COLUMNS.map((c) => `r.${c}`)).from('records as r'), query, 'r');
        const rows = (await db.select<RecordRow>(builder)).map(fromRow);
        const records = rows.slice(0, query.limit);
        const last = records.at(-1);
        const next = rows.length > query.limit && last ? { dateMs: last.dateMs, id: last.id } : null;
        return { records, next };
      }),
  };
}
