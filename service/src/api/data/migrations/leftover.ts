import type { Knex } from 'knex';

/**
 * Drops `table` when a killed run of the step that makes it left it behind: MySQL commits each DDL
 * at once, and knex makes a table's keys and indexes in statements after its CREATE, so the table
 * may lack them. It can hold nothing yet (no pod serves before every step is recorded), so one
 * holding rows is not this step's: the run stops rather than touch it.
 */
export async function dropLeftover(knex: Knex, table: string, step: string): Promise<void> {
  if (!(await knex.schema.hasTable(table))) return;
  const [row] = (await knex(table).count({ n: '*' })) as Array<{ n: number | string }>;
  if (Number(row?.n ?? 0) > 0) throw new Error(`table ${table} exists and holds rows, but migration ${step} that makes it has not run: move it out of this database`);
  await knex.schema.dropTable(table);
}

/**
 * Drops the `tables` a step builds from other tables or makes empty, which a killed run of it may
 * have left (MySQL commits each DDL at once): the step makes them again.
 */
export async function dropRebuilt(knex: Knex, ...tables: string[]): Promise<void> {
  for (const table of tables) await knex.schema.dropTableIfExists(table);
}
