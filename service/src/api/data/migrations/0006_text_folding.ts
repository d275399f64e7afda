import type { Knex } from 'knex';
import { dropRebuilt } from './leftover.js';

/**
 * The folding version of the stored text (domain/text.ts, FOLDING_VERSION): 1, as every release
 * before this one folded. `records migrate` then brings it to this release's (data/refold.ts),
 * outside the migrations' lock: a refold of a large table is no step to hold it for.
 */
export async function up(knex: Knex): Promise<void> {
  await dropRebuilt(knex, 'text_folding');
  await knex.schema.createTable('text_folding', (table) => {
    table.integer('id').primary();
    table.integer('version').notNullable();
  });
  await knex('text_folding').insert({ id: 1, version: 1 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('text_folding');
}
