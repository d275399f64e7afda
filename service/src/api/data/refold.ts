import type { Knex } from 'knex';
import { FOLDING_VERSION, foldText, foldUri } from '../domain/text.js';
import { trigramsOf } from '../domain/trigrams.js';
import { POSTING_GROUP } from './index-writer.js';
import { decodeIds, encodeIds, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from './postings.js';

/** Records read and refolded per transaction: a posting group, so the rows added are as large as a load's. */
const RECORDS_PER_STEP = POSTING_GROUP;
/** Posting rows checked per transaction, and posting rows per INSERT (SQLite caps a knex multi-row insert at 500). */
const ROWS_PER_STEP = 50;
const ROWS_PER_INSERT = 500;
/** Ids whose titles one statement reads. */
const IDS_PER_READ = 1000;
/**
 * The trigrams a record can lose to folding version 2: those with ς, which it no longer produces,
 * and those with conjoining Hangul jamo, which it now composes into syllables.
 */
const MAY_BE_LOST = /[ς\u1100-\u11ff]/;
/** Lock waits and deadlocks (on Galera, also conflicts found at commit): the step is run again. */
const RETRIED = new Set(['ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK']);
const ATTEMPTS = 5;
/** Cleanings at most: each after the first only finds what the one before skipped or could not see. */
const CLEANING_ROUNDS = 3;

type StoredRow = { id: number | string; title: string | null; uri: string | null; title_folded: string; uri_folded: string };
type PostingRead = { trigram: string; first_id: number | string; ids: Uint8Array };

export type RefoldResult = { records: number; refolded: number; postingsRemoved: number };
export type RefoldSteps = { recordsPerStep?: number; rowsPerStep?: number };

/**
 * Brings every record's folded title and URI, and the search index, to the folding of
 * domain/text.ts (FOLDING_VERSION). Pods may serve and write meanwhile, and two passes may run at
 * once: every step is a transaction of its own, at READ COMMITTED on MySQL, retried on a lock
 * wait or deadlock, and idempotent, so an interrupted pass is simply run again.
 *
 * 1. Records, in id order: each whose folding changed is rewritten, only if it still holds what
 *    was read (another pass may have been first), and rows for the trigrams it gains are added,
 *    keyed (trigram, the step's smallest id gaining it). No row has that key: a row's first id
 *    is one of its own ids, and none of these is indexed under a trigram it gains.
 * 2. Rows of the trigrams a record may have lost (MAY_BE_LOST): each id whose title no longer
 *    holds the trigram is taken out. Between the two, the index lists a refolded record under
 *    trigrams it lost as well, which searches recheck away. With writers and merges running, a
 *    few such postings can remain after the last cleaning round; the next pass takes them out.
 * Each posting row is read once a round, so the pass is linear in the records and their postings.
 */
export async function refoldRecords(knex: Knex, { recordsPerStep = RECORDS_PER_STEP, rowsPerStep = ROWS_PER_STEP }: RefoldSteps = {}): Promise<RefoldResult> {
  const result: RefoldResult = { records: 0, refolded: 0, postingsRemoved: 0 };
  let after = 0;
  for (;;) {
    const rows = (await knex('records').select('id', 'title', 'uri', 'title_folded', 'uri_folded').where('id', '>', after).orderBy('id').limit(recordsPerStep)) as StoredRow[];
    if (rows.length === 0) break;
    after = Number(rows.at(-1)?.id);
    result.records += rows.length;
    result.refolded += await retrying(() => refoldStep(knex, rows));
  }
  // Rows a writer or the compactor holds are skipped, and the compactor may merge a row not yet
  // cleaned into one already cleaned: the cleaning runs again while it still finds postings to take out.
  for (let round = 0; round < CLEANING_ROUNDS; round += 1) {
    const removed = await cleanPostings(knex, rowsPerStep);
    result.postingsRemoved += removed;
    if (removed === 0) break;
  }
  return result;
}

/** Takes out of every MAY_BE_LOST trigram's rows the ids whose titles no longer hold it; returns how many. */
async function cleanPostings(knex: Knex, rowsPerStep: number): Promise<number> {
  let removed = 0;
  const grams = ((await knex('title_postings').distinct('trigram')) as Array<{ trigram: string }>).map((row) => row.trigram).filter((gram) => MAY_BE_LOST.test(gram));
  for (const gram of grams) {
    let from = -1;
    for (;;) {
      const page = await retrying(() => cleanStep(knex, gram, from, rowsPerStep));
      removed += page.removed;
      if (page.last === null) break;
      from = page.last;
    }
  }
  return removed;
}

/** Runs a step (a transaction), again after a lock wait or a deadlock. */
async function retrying<T>(work: () => Promise<T>, attempt = 1): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (attempt >= ATTEMPTS || !RETRIED.has((error as { code?: string }).code ?? '')) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    return retrying(work, attempt + 1);
  }
}

const onMysql = (knex: Knex) => knex.client.config.client === 'mysql2';
const isolation = (knex: Knex) => (onMysql(knex) ? { isolationLevel: 'read committed' as const } : {});

/** Rewrites the records of `rows` whose folding changed, and adds the rows of the trigrams they gain; returns how many. */
function refoldStep(knex: Knex, rows: StoredRow[]): Promise<number> {
  return knex.transaction(async (trx) => {
    let refolded = 0;
    const gained = new Map<string, number[]>();
    for (const row of rows) {
      const title = foldText(row.title ?? '');
      const uri = foldUri(row.uri ?? '');
      if (title === row.title_folded && uri === row.uri_folded) continue;
      const id = Number(row.id);
      const updated = await trx('records').where({ id, title_folded: row.title_folded, uri_folded: row.uri_folded }).update({ title_folded: title, uri_folded: uri });
      if (updated !== 1) continue;
      refolded += 1;
      const had = new Set(trigramsOf(row.title_folded));
      for (const gram of trigramsOf(title)) {
        if (had.has(gram)) continue;
        const ids = gained.get(gram);
        if (ids) ids.push(id);
        else gained.set(gram, [id]);
      }
    }
    const postings = [...gained].map(([trigram, ids]) => ({ trigram, first_id: ids[0] as number, n: ids.length, ids: encodeIds(ids[0] as number, ids) }));
    for (const run of runsWithin(postings, ROWS_PER_INSERT, POSTING_STATEMENT_BYTES, (row) => postingRowBytes(row.trigram, row.ids))) {
      await trx('title_postings').insert(run);
    }
    return refolded;
  }, isolation(knex));
}

/**
 * Takes out of `gram`'s rows after first id `from` (up to `limit` rows, locked on MySQL, where rows
 * locked by an open write or a merge are skipped rather than waited for, and the compactor skips
 * these) every id whose folded title no longer holds `gram`. A row left empty is
 * deleted; one whose first id left is keyed again by its new first id, one of its own ids, so no
 * other row of the trigram holds that key.
 */
function cleanStep(knex: Knex, gram: string, from: number, limit: number): Promise<{ removed: number; last: number | null }> {
  return knex.transaction(async (trx) => {
    const read = trx('title_postings').select('trigram', 'first_id', 'ids').where('trigram', gram).where('first_id', '>', from).orderBy('first_id').limit(limit);
    const rows = (await (onMysql(knex) ? read.forUpdate().skipLocked() : read)) as PostingRead[];
    const listed = rows.map((row) => ({ first: Number(row.first_id), ids: decodeIds(Number(row.first_id), row.ids) }));
    const titles = new Map<number, string>();
    const all = listed.flatMap((row) => row.ids);
    for (let start = 0; start < all.length; start += IDS_PER_READ) {
      const found = (await trx('records').select('id', 'title_folded').whereIn('id', all.slice(start, start + IDS_PER_READ))) as Array<{ id: number | string; title_folded: string }>;
      for (const { id, title_folded } of found) titles.set(Number(id), title_folded);
    }
    let removed = 0;
    for (const { first, ids } of listed) {
      // A trigram is three code points, and a string holds it as a substring exactly when it is among its trigrams.
      const kept = ids.filter((id) => titles.get(id)?.includes(gram));
      if (kept.length === ids.length) continue;
      removed += ids.length - kept.length;
      const key = { trigram: gram, first_id: first };
      const head = kept[0];
      if (head === undefined) await trx('title_postings').where(key).delete();
      else if (head === first) await trx('title_postings').where(key).update({ n: kept.length, ids: encodeIds(first, kept) });
      else {
        await trx('title_postings').where(key).delete();
        await trx('title_postings').insert({ trigram: gram, first_id: head, n: kept.length, ids: encodeIds(head, kept) });
      }
    }
    return { removed, last: rows.length < limit ? null : (listed.at(-1)?.first ?? null) };
  }, isolation(knex));
}

/**
 * Runs the pass when the stored text is of an older folding than this release's (the version the
 * last whole pass brought it to, in table text_folding), and records the new version. `records
 * migrate` calls it after the migrations, outside their lock: a Job killed midway leaves nothing
 * locked, and the next run picks up where it stopped.
 */
export async function refoldIfBehind(knex: Knex): Promise<RefoldResult | null> {
  const row = (await knex('text_folding').where('id', 1).first()) as { version: number } | undefined;
  if (row && row.version >= FOLDING_VERSION) return null;
  return refoldAll(knex);
}

/** The pass, then the version it brought the stored text to (`records refold` runs it whatever the version says). */
export async function refoldAll(knex: Knex): Promise<RefoldResult> {
  const result = await refoldRecords(knex);
  await knex('text_folding').where('id', 1).update({ version: FOLDING_VERSION });
  return result;
}
