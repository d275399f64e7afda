import type { Knex } from 'knex';
import { foldText, foldUri } from '../domain/text.js';
import { trigramsOf } from '../domain/trigrams.js';
import { encodeIds, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from './postings.js';

/** Records read, refolded and indexed per transaction. */
const RECORDS_PER_STEP = 2000;
/** Trigrams per DELETE, and posting rows per INSERT (SQLite caps a knex multi-row insert at 500). */
const GRAMS_PER_DELETE = 500;
const ROWS_PER_INSERT = 500;

/**
 * Trigrams whose posting rows are rebuilt whole: those with ς, which folding no longer produces,
 * and those with conjoining Hangul jamo, which it produces now only for jamo that form no syllable.
 */
const REBUILT = /[ς\u1100-\u11ff]/;

type StoredRow = { id: number | string; title: string | null; uri: string | null; title_folded: string; uri_folded: string };

export type RefoldResult = { records: number; refolded: number };

/**
 * Brings every record's folded title and URI, and the search index, to the folding of
 * domain/text.ts (FOLDING_VERSION), in transactions of RECORDS_PER_STEP records.
 *
 * The index stays exact: rows of REBUILT trigrams are deleted first and built again from the
 * records; a refolded record's other new trigrams are added in its step. A new row's key is
 * (trigram, the step's smallest id needing it), never an existing row's: a row's first id is one
 * of its own ids, and no record is indexed under a trigram it gains here. Old trigrams a record
 * loses are all REBUILT ones. Idempotent, so an interrupted pass can simply be run again.
 */
export async function refoldRecords(knex: Knex): Promise<RefoldResult> {
  const grams = ((await knex('title_postings').distinct('trigram')) as Array<{ trigram: string }>).map((row) => row.trigram).filter((gram) => REBUILT.test(gram));
  for (let start = 0; start < grams.length; start += GRAMS_PER_DELETE) await knex('title_postings').whereIn('trigram', grams.slice(start, start + GRAMS_PER_DELETE)).delete();

  const result: RefoldResult = { records: 0, refolded: 0 };
  let after = 0;
  for (;;) {
    const rows = (await knex('records').select('id', 'title', 'uri', 'title_folded', 'uri_folded').where('id', '>', after).orderBy('id').limit(RECORDS_PER_STEP)) as StoredRow[];
    if (rows.length === 0) break;
    after = Number(rows.at(-1)?.id);
    result.records += rows.length;
    const changed: Array<{ id: number; title_folded: string; uri_folded: string }> = [];
    const added = new Map<string, number[]>();
    for (const row of rows) {
      const id = Number(row.id);
      const title = foldText(row.title ?? '');
      const uri = foldUri(row.uri ?? '');
      if (title !== row.title_folded || uri !== row.uri_folded) changed.push({ id, title_folded: title, uri_folded: uri });
      const had = new Set(trigramsOf(row.title_folded));
      for (const gram of trigramsOf(title)) {
        if (had.has(gram) && !REBUILT.test(gram)) continue;
        const ids = added.get(gram);
        if (ids) ids.push(id);
        else added.set(gram, [id]);
      }
    }
    if (changed.length === 0 && added.size === 0) continue;
    const postings = [...added].map(([trigram, ids]) => ({ trigram, first_id: ids[0] as number, n: ids.length, ids: encodeIds(ids[0] as number, ids) }));
    await knex.transaction(async (trx) => {
      for (const { id, ...folded } of changed) await trx('records').where('id', id).update(folded);
      for (const run of runsWithin(postings, ROWS_PER_INSERT, POSTING_STATEMENT_BYTES, (row) => postingRowBytes(row.trigram, row.ids))) {
        await trx('title_postings').insert(run);
      }
    });
    result.refolded += changed.length;
  }
  return result;
}
