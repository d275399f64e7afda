import type { Knex } from 'knex';
import { dropLeftover } from './leftover.js';

/** Idempotency-Key records: the first successful response per (caller, key), kept until expiry. */
export async function up(knex: Knex): Promise<void> {
  const mysql = knex.client.config.client === 'mysql2';
  await dropLeftover(knex, 'idempotency_keys', '0003_idempotency_keys');
  await knex.schema.createTable('idempotency_keys', (table) => {
    if (mysql) {
      table.charset('utf8mb4');
      table.collate('utf8mb4_bin');
    }
    // sha256 of issuer + subject: keys of different callers never meet.
    table.string('scope', 64).notNullable();
    table.string('idempotency_key', 128).notNullable();
    table.string('request_hash', 64).notNullable();
    table.integer('status').notNullable();
    table.text('response', 'mediumtext').notNullable();
    table.bigInteger('expires_at_ms').notNullable();
    table.primary(['scope', 'idempotency_key']);
    table.index(['expires_at_ms'], 'idempotency_keys_expiry');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('idempotency_keys');
}
