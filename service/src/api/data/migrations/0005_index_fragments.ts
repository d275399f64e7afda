import type { Knex } from 'knex';
import { dropRebuilt } from './leftover.js';

/**
 * The posting groups written by small transactions, waiting to be merged (data/index-compactor.ts),
 * and the row replicas lock to take turns merging them.
 * An expand step: a release without it keeps writing and searching as before (its small writes are
 * simply never listed, so never merged), so both versions serve during a rolling upgrade.
 */
export async function up(knex: Knex): Promise<void> {
  await dropRebuilt(knex, 'index_merge_lock', 'index_fragments');
  await knex.schema.createTable('index_fragments', (table) => {
    table.bigInteger('first_id').unsigned().notNullable().primary();
    table.bigInteger('last_id').unsigned().notNullable();
    table.integer('n').unsigned().notNullable();
  });
  // Its one row is the turn to merge: replicas lock it for a merge's transaction, one at a time.
  await knex.schema.createTable('index_merge_lock', (table) => {
    table.integer('id').primary();
  });
  await knex('index_merge_lock').insert({ id: 1 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('index_merge_lock');
  await knex.schema.dropTable('index_fragments');
}
