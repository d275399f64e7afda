import type { Knex } from 'knex';
import { dropLeftover } from './leftover.js';

export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  await dropLeftover(knex, 'records', '0001_create_records');
  await knex.schema.createTable('records', (table) => {
    if (mysql) {
      table.charset('utf8mb4');
      table.collate('utf8mb4_unicode_ci');
    }
    table.bigIncrements('id').primary();
    table.string('title', 255).nullable();
    table.string('uri', 2048).nullable();
    // Epoch milliseconds (UTC): the same type, range and comparison on every engine.
    table.bigInteger('date_ms').notNullable();
    table.string('date_raw', 64).notNullable();
    // Folded copies for substring search; binary collation so the database adds no folding of its own.
    const folded = (name: string) => {
      const column = table.text(name).notNullable();
      if (mysql) column.collate('utf8mb4_bin');
    };
    folded('title_folded');
    folded('uri_folded');
    table
      .timestamp('created_at', { precision: 3 })
      .notNullable()
      .defaultTo(mysql ? knex.fn.now(3) : knex.raw("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"));
    table.index(['date_ms', 'id'], 'records_date_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('records');
}
