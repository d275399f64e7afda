import type { Knex } from 'knex';
import { IdempotencyKeyTaken } from '../domain/errors.js';
import type { IdempotencyStore, RememberedResponse } from '../domain/ports.js';
import type { Database } from './database.js';
import { guarded } from './guarded.js';

/** The idempotency_keys table: responses remembered per (scope, key) until they expire. */

type Row = { request_hash: string; response: string; expires_at_ms: number | string };

/**
 * Inserts the key's row inside the write's transaction. A duplicate (or, on InnoDB, a deadlock
 * between two inserts of the same key) means another request holds the key: IdempotencyKeyTaken,
 * so the caller replays it. An expired row is replaced. No DELETE runs first: its gap lock would
 * make racing inserts deadlock.
 */
export async function rememberIn(trx: Knex.Transaction, entry: RememberedResponse, nowMs: number): Promise<void> {
  const row = {
    scope: entry.scope,
    idempotency_key: entry.key,
    request_hash: entry.requestHash,
    // The column predates the domain's view of a remembered response: every one is a 200.
    status: 200,
    response: entry.response,
    expires_at_ms: entry.expiresAtMs,
  };
  try {
    await trx('idempotency_keys').insert(row);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!isTaken(code)) throw error;
    if (code === 'ER_LOCK_DEADLOCK') throw taken();
    // Only an expired row may be taken over; racing requests see a deadlock here (InnoDB has then
    // rolled the transaction back), which is the same answer.
    const expired = await trx('idempotency_keys')
      .where({ scope: entry.scope, idempotency_key: entry.key })
      .where('expires_at_ms', '<', nowMs)
      .update({ request_hash: row.request_hash, status: row.status, response: row.response, expires_at_ms: row.expires_at_ms })
      .catch((updateError: { code?: string }) => {
        if (updateError.code === 'ER_LOCK_DEADLOCK') throw taken();
        throw updateError;
      });
    // The failed insert's shared lock on the row holds the purge (data/key-purge.ts) off until this
    // transaction ends: nothing matched means another request holds the key.
    if (expired === 0) throw taken();
  }
}

const taken = () => new IdempotencyKeyTaken('Another request with this Idempotency-Key finished first.');
const isTaken = (code: string) => code === 'ER_DUP_ENTRY' || code === 'ER_LOCK_DEADLOCK' || code.startsWith('SQLITE_CONSTRAINT');

export function createIdempotencyStore({ db }: { db: Database }): IdempotencyStore {
  const read = async (query: Knex.QueryBuilder, scope: string, key: string, nowMs: number) => {
    const row = (await query.where({ scope, idempotency_key: key }).where('expires_at_ms', '>=', nowMs).first()) as Row | undefined;
    return row ? { scope, key, requestHash: row.request_hash, response: row.response, expiresAtMs: Number(row.expires_at_ms) } : null;
  };
  return {
    find: (scope, key, nowMs) => guarded(() => read(db.knex('idempotency_keys'), scope, key, nowMs)),
    // A shared lock waits for the write holding the row, then reads what it committed. A loser of
    // a race over an expired key gets here before the winner commits: a plain read would still see
    // the expired row. SQLite runs one write at a time, so there is nothing to wait for.
    findAfterWriter: (scope, key, nowMs) =>
      guarded(() => (db.engine === 'mysql' ? db.knex.transaction((trx) => read(trx('idempotency_keys').forShare(), scope, key, nowMs)) : read(db.knex('idempotency_keys'), scope, key, nowMs))),
  };
}
