import type { Knex } from 'knex';
import { dropRebuilt } from './leftover.js';
import { createPostingsBuilder } from '../postings.js';
import { up as createTrigramTable } from './0002_title_trigrams.js';

/** Records read per backfill step: one posting row per distinct trigram of this many titles. */
const BACKFILL_GROUP = 8192;
/** Posting rows per INSERT while backfilling (SQLite caps a knex multi-row insert at 500). */
const ROWS_PER_INSERT = 500;

/**
 * Replaces the one-row-per-(trigram, record) table with packed posting lists (data/postings.ts):
 * the same answers from about a tenth of the bytes. Existing records are indexed again in groups.
 * Old pods still running during a rollout write to the dropped table and fail with 503 until they
 * are replaced (docs/decisions.md).
 */
export async function up(knex: Knex): Promise<void> {
  await dropRebuilt(knex, 'title_postings');
  if (knex.client.config.client === 'mysql2') {
    await knex.raw(`create table title_postings (
      trigram varchar(3) character set utf8mb4 collate utf8mb4_bin not null,
      first_id bigint unsigned not null,
      n int unsigned not null,
      ids blob not null,
      primary key (trigram, first_id)
    ) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`);
  } else {
    await knex.raw(`create table title_postings (
      trigram text not null,
      first_id integer not null,
      n integer not null,
      ids blob not null,
      primary key (trigram, first_id)
    ) without rowid`);
  }
  const builder = createPostingsBuilder();
  let after = 0;
  for (;;) {
    const rows = (await knex('records').select('id', 'title_folded').where('id', '>', after).orderBy('id').limit(BACKFILL_GROUP)) as Array<{
      id: number | string;
      title_folded: string;
    }>;
    if (rows.length === 0) break;
    for (const row of rows) builder.add(Number(row.id), row.title_folded);
    const postings = builder.drain();
    for (let start = 0; start < postings.length; start += ROWS_PER_INSERT) await knex('title_postings').insert(postings.slice(start, start + ROWS_PER_INSERT));
    after = Number(rows.at(-1)?.id);
  }
  await knex.schema.dropTableIfExists('title_trigrams');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('title_postings');
  await createTrigramTable(knex);
}
