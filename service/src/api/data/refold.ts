import type { Knex } from 'knex';
import { foldText, foldUri } from '../domain/text.js';
import { trigramsOf } from '../domain/trigrams.js';
import { decodeIds, encodeIds, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from './postings.js';

/** Records read, refolded and re-indexed per transaction. */
const RECORDS_PER_STEP = 2000;
/** Trigrams whose rows one statement reads, and posting rows per INSERT (SQLite caps a knex multi-row insert at 500). */
const GRAMS_PER_READ = 500;
const ROWS_PER_INSERT = 500;

type StoredRow = { id: number | string; title: string | null; uri: string | null; title_folded: string; uri_folded: string };
type PostingRead = { trigram: string; first_id: number | string; n: number | string; ids: Uint8Array };

export type RefoldResult = { records: number; refolded: number };

/** Adds `id` to the list of `key` in `lists`. */
function listUnder(lists: Map<string, number[]>, key: string, id: number): void {
  const list = lists.get(key);
  if (list) list.push(id);
  else lists.set(key, [id]);
}

/**
 * Brings every record's folded title and URI, and the search index, to the folding of
 * domain/text.ts (FOLDING_VERSION): one transaction per `recordsPerStep` records, each rewriting
 * the records whose folding changed, taking their ids out of the rows of trigrams they lose and
 * adding rows for the trigrams they gain. Pods may write meanwhile: nothing else is touched.
 *
 * The index stays exact. A gained trigram's row is keyed (trigram, the step's smallest id gaining
 * it), never an existing row's key: a row's first id is one of its own ids, and none of these ids
 * is indexed under a trigram it gains. Rows are read with a lock on MySQL (the compactor skips
 * locked rows), at READ COMMITTED, as the compactor reads: no gap locks to hold writers back.
 * Idempotent: a record already refolded is left alone, so an interrupted pass is simply run again.
 */
export async function refoldRecords(knex: Knex, { recordsPerStep = RECORDS_PER_STEP }: { recordsPerStep?: number } = {}): Promise<RefoldResult> {
  const mysql = knex.client.config.client === 'mysql2';
  const result: RefoldResult = { records: 0, refolded: 0 };
  let after = 0;
  for (;;) {
    const rows = (await knex('records').select('id', 'title', 'uri', 'title_folded', 'uri_folded').where('id', '>', after).orderBy('id').limit(recordsPerStep)) as StoredRow[];
    if (rows.length === 0) break;
    after = Number(rows.at(-1)?.id);
    result.records += rows.length;
    const changed: Array<{ id: number; title_folded: string; uri_folded: string }> = [];
    const gained = new Map<string, number[]>();
    const lost = new Map<string, number[]>();
    for (const row of rows) {
      const id = Number(row.id);
      const title = foldText(row.title ?? '');
      const uri = foldUri(row.uri ?? '');
      if (title === row.title_folded && uri === row.uri_folded) continue;
      changed.push({ id, title_folded: title, uri_folded: uri });
      if (title === row.title_folded) continue;
      const had = new Set(trigramsOf(row.title_folded));
      const has = new Set(trigramsOf(title));
      for (const gram of has) if (!had.has(gram)) listUnder(gained, gram, id);
      for (const gram of had) if (!has.has(gram)) listUnder(lost, gram, id);
    }
    if (changed.length === 0) continue;
    await knex.transaction(
      async (trx) => {
        for (const { id, ...folded } of changed) await trx('records').where('id', id).update(folded);
        await removePostings(trx, lost, mysql);
        const postings = [...gained].map(([trigram, ids]) => ({ trigram, first_id: ids[0] as number, n: ids.length, ids: encodeIds(ids[0] as number, ids) }));
        for (const run of runsWithin(postings, ROWS_PER_INSERT, POSTING_STATEMENT_BYTES, (row) => postingRowBytes(row.trigram, row.ids))) {
          await trx('title_postings').insert(run);
        }
      },
      mysql ? { isolationLevel: 'read committed' } : {},
    );
    result.refolded += changed.length;
  }
  return result;
}

/**
 * Takes ids out of their trigrams' rows: a row left empty is deleted, and one whose first id
 * left is keyed again by its new first id (one of its own ids, so no other row of the trigram
 * holds that key).
 */
async function removePostings(trx: Knex.Transaction, lost: Map<string, number[]>, mysql: boolean): Promise<void> {
  const grams = [...lost.keys()];
  for (let start = 0; start < grams.length; start += GRAMS_PER_READ) {
    const chunk = grams.slice(start, start + GRAMS_PER_READ);
    const highest = Math.max(...chunk.flatMap((gram) => lost.get(gram) ?? []));
    const read = trx('title_postings').select('trigram', 'first_id', 'n', 'ids').whereIn('trigram', chunk).where('first_id', '<=', highest);
    const rows = (await (mysql ? read.forUpdate() : read)) as PostingRead[];
    for (const row of rows) {
      const leaving = new Set(lost.get(row.trigram));
      const ids = decodeIds(Number(row.first_id), row.ids);
      const kept = ids.filter((id) => !leaving.has(id));
      if (kept.length === ids.length) continue;
      const key = { trigram: row.trigram, first_id: Number(row.first_id) };
      if (kept.length === 0) {
        await trx('title_postings').where(key).delete();
      } else if (kept[0] === key.first_id) {
        await trx('title_postings').where(key).update({ n: kept.length, ids: encodeIds(key.first_id, kept) });
      } else {
        await trx('title_postings').where(key).delete();
        await trx('title_postings').insert({ trigram: row.trigram, first_id: kept[0], n: kept.length, ids: encodeIds(kept[0] as number, kept) });
      }
    }
  }
}
