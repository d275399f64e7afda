import type { Knex } from 'knex';
import { refoldRecords } from '../refold.js';

/**
 * Folding version 2 (domain/text.ts): final sigma folds to σ, Hangul syllables stay whole. Stored
 * folded titles and URIs, and the search index, are brought to it (data/refold.ts). The schema is
 * unchanged, so pods of the previous release keep serving during a rollout without errors; what
 * they write meanwhile keeps the old folding until `records refold` runs (docs/operations.md).
 */
/**
 * Outside a transaction: the pass commits one of its own per 2,000 records. In knex's, it would
 * hold its locks, and everything it did, until the whole table was done.
 */
export const config = { transaction: false };

export async function up(knex: Knex): Promise<void> {
  await refoldRecords(knex);
}

/**
 * Not undone: the schema is the same. The previous release, rolled back to, serves every request,
 * but its searches for terms with σ/ς or Hangul miss records folded here.
 */
export async function down(): Promise<void> {}
