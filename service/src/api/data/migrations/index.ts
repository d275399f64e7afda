import type { Knex } from 'knex';
import type { Database } from '../database.js';
import { withMigrationTurn } from './migration-turn.js';
import * as createRecords from './0001_create_records.js';
import * as titleTrigrams from './0002_title_trigrams.js';
import * as idempotencyKeys from './0003_idempotency_keys.js';
import * as titlePostings from './0004_title_postings.js';
import * as indexFragments from './0005_index_fragments.js';
import * as textFolding from './0006_text_folding.js';

type Migration = { up(knex: Knex): Promise<void>; down(knex: Knex): Promise<void> };

/** Every migration in order. Listed in code so the same list runs under tsx and from dist/. */
const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['0001_create_records', createRecords],
  ['0002_title_trigrams', titleTrigrams],
  ['0003_idempotency_keys', idempotencyKeys],
  ['0004_title_postings', titlePostings],
  ['0005_index_fragments', indexFragments],
  ['0006_text_folding', textFolding],
];

const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([candidate]) => candidate === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

/**
 * Migrations are expand/contract (docs/decisions.md): a release's schema changes only add, so a
 * database a later release migrated still serves this one. Knex would call such a database
 * "corrupt" (it records migrations this code does not know) and keep this release's pods unready
 * during a rolling upgrade or after a rollback; the list validation is off so it does not.
 */
export const migrationConfig: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations', disableMigrationsListValidation: true };

/**
 * Applies what is missing, one run at a time (migration-turn.ts). A migration that a killed run
 * left half done starts again: each drops what it alone creates before creating it.
 */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  return withMigrationTurn(knex, migrationConfig, async () => {
    const [, applied] = (await knex.migrate.latest(migrationConfig)) as [number, string[]];
    return applied;
  });
}

/**
 * True when every known migration has been applied (readiness uses this). Read on a read
 * connection, as knex's own list would not be: it creates the migrations table when missing.
 */
export async function migrationsCurrent(db: Database): Promise<boolean> {
  const rows = await db.select<{ name: string }>({ sql: `select name from ${migrationConfig.tableName}`, bindings: [] }).catch(() => null);
  if (rows === null) return false; // no migrations table: nothing applied yet
  const applied = new Set(rows.map((row) => row.name));
  return MIGRATIONS.every(([name]) => applied.has(name));
}
