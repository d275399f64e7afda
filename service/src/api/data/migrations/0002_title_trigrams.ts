import type { Knex } from 'knex';
import { dropRebuilt } from './leftover.js';
import { trigramsOf } from '../../domain/trigrams.js';

const BACKFILL_BATCH = 2000;

/**
 * The substring index for `contains`: one row per distinct trigram of each folded title. The
 * primary key (trigram, record_id) serves both "records with this trigram" and the join check.
 */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  await dropRebuilt(knex, 'title_trigrams');
  await knex.schema.createTable('title_trigrams', (table) => {
    if (mysql) {
      table.charset('utf8mb4');
      table.collate('utf8mb4_bin');
    }
    const trigram = table.string('trigram', 3).notNullable();
    if (mysql) trigram.collate('utf8mb4_bin');
    table.bigInteger('record_id').unsigned().notNullable();
    table.primary(['trigram', 'record_id']);
  });
  // Existing records get their index rows too.
  let after = 0;
  for (;;) {
    const rows = (await knex('records').select('id', 'title_folded').where('id', '>', after).orderBy('id').limit(BACKFILL_BATCH)) as Array<{
      id: number;
      title_folded: string;
    }>;
    if (rows.length === 0) break;
    const entries = rows.flatMap((row) => trigramsOf(row.title_folded).map((trigram) => ({ trigram, record_id: row.id })));
    // SQLite caps a multi-row insert (a compound SELECT in knex) at 500 rows.
    for (let start = 0; start < entries.length; start += 500) await knex('title_trigrams').insert(entries.slice(start, start + 500));
    after = Number(rows.at(-1)?.id);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('title_trigrams');
}
