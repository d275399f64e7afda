import type { Knex } from 'knex';
import { decodeIds } from '../../service/src/api/data/postings.js';
import { trigramsOf } from '../../service/src/api/domain/trigrams.js';

/**
 * The search index as the set it must be: every (trigram, id) pair read from title_postings, and
 * the pairs the records' titles call for. A lost posting is missing from the first; a duplicated
 * one appears twice in it (the lists keep duplicates, so deep equality catches both).
 */

type Postings = Record<string, number[]>;

const sorted = (postings: Map<string, number[]>): Postings =>
  Object.fromEntries([...postings.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([gram, ids]) => [gram, ids.sort((x, y) => x - y)]));

export async function storedPostings(knex: Knex): Promise<Postings> {
  const rows = (await knex('title_postings').select('trigram', 'first_id', 'n', 'ids')) as Array<{ trigram: string; first_id: number | string; n: number; ids: Uint8Array }>;
  const postings = new Map<string, number[]>();
  for (const row of rows) {
    const ids = decodeIds(Number(row.first_id), row.ids);
    if (ids.length !== Number(row.n)) throw new Error(`posting row (${row.trigram}, ${row.first_id}) says n=${row.n} but holds ${ids.length} ids`);
    const all = postings.get(row.trigram);
    if (all) all.push(...ids);
    else postings.set(row.trigram, ids);
  }
  return sorted(postings);
}

export async function expectedPostings(knex: Knex): Promise<Postings> {
  const records = (await knex('records').select('id', 'title_folded')) as Array<{ id: number | string; title_folded: string }>;
  const postings = new Map<string, number[]>();
  for (const { id, title_folded } of records) {
    for (const gram of trigramsOf(title_folded)) {
      const ids = postings.get(gram);
      if (ids) ids.push(Number(id));
      else postings.set(gram, [Number(id)]);
    }
  }
  return sorted(postings);
}

export async function postingRows(knex: Knex): Promise<number> {
  const [row] = (await knex('title_postings').count({ n: '*' })) as Array<{ n: number | string }>;
  return Number(row?.n ?? 0);
}
