import type { Knex } from 'knex';
import { ECHOED_NAME_LENGTH, MAX_JSON_ITEMS } from '../domain/bulk-items.js';
import { IdempotencyKeyTaken } from '../domain/errors.js';
import { MAX_REPORTED_REJECTIONS } from '../domain/stream-items.js';
import type { IdempotencyStore, RememberedResponse } from '../domain/ports.js';
import type { Database } from './database.js';
import { guarded } from './guarded.js';

/** The idempotency_keys table: responses remembered per (scope, key) until they expire. */

/**
 * The most bytes one character of an echoed field name takes in a remembered response's INSERT:
 * JSON writes a control character or a lone surrogate as `\u0001`, and the statement's escaping
 * doubles its backslash (tests/unit/api/data/remembered-response.test.ts tries every code point).
 */
export const WIDEST_NAME_CHARACTER_BYTES = 7;
/** A rejection's other bytes: its keys and quotes (escaped), an index or line number, "…", the longest message. */
const REJECTION_OVERHEAD_BYTES = 160;
const WIDEST_REJECTION_BYTES = ECHOED_NAME_LENGTH * WIDEST_NAME_CHARACTER_BYTES + REJECTION_OVERHEAD_BYTES;
/** An id range of a stream's response, `[first,last],` at 16 digits each. */
const WIDEST_ID_RANGE_BYTES = 36;
/** Below any stored record's NDJSON line (`{"date":"2020-01-01"}` and its newline take 22): a bound. */
const SHORTEST_STORED_LINE_BYTES = 16;
const RESPONSE_HEAD_BYTES = 256;
const STREAM_REJECTIONS_BYTES = RESPONSE_HEAD_BYTES + MAX_REPORTED_REJECTIONS * WIDEST_REJECTION_BYTES;

/**
 * The most bytes a remembered response can take in its INSERT, which the start-up check requires
 * max_allowed_packet to hold (data/database.ts); larger ones failed their request with 503 on every
 * retry. `documentBytes`: a JSON document's, one rejection per item, each naming a field of up to
 * 64 characters. `streamBytes`: a stream's, its reported rejections and its ids as ranges, at most
 * one per INSERT of `rowsPerInsert` records over a body of `ndjsonBodyLimit` bytes of the shortest
 * lines. `streamLimitWithin`: the longest body whose response fits a packet.
 */
export function largestRemembered({ ndjsonBodyLimit, rowsPerInsert }: { ndjsonBodyLimit: number; rowsPerInsert: number }) {
  const bytesPerRange = SHORTEST_STORED_LINE_BYTES * rowsPerInsert;
  return {
    documentBytes: RESPONSE_HEAD_BYTES + MAX_JSON_ITEMS * WIDEST_REJECTION_BYTES,
    streamBytes: STREAM_REJECTIONS_BYTES + Math.ceil(ndjsonBodyLimit / bytesPerRange) * WIDEST_ID_RANGE_BYTES,
    streamLimitWithin: (packet: number) => Math.max(0, Math.floor((packet - STREAM_REJECTIONS_BYTES) / WIDEST_ID_RANGE_BYTES)) * bytesPerRange,
  };
}

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
