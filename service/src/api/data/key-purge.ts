import type { Logger } from 'pino';
import { loggableError } from '../observability/loggable-error.js';
import type { Database } from './database.js';
import { createPeriodicPass } from './periodic-pass.js';

/** Keys deleted per statement, and statements per pass (a pass deletes at most their product). */
const KEYS_PER_DELETE = 1000;
const DELETES_PER_PASS = 100;

/**
 * Deletes idempotency keys whose response has expired; returns how many. Each round reads up to
 * KEYS_PER_DELETE expired keys (by the expiry index) and deletes those by primary key, still
 * expired: record locks only, no range that would hold back writers inserting new keys. A request
 * taking an expired key over holds its row from its first insert on, so the two never cross.
 */
export async function purgeExpiredKeys(db: Database, nowMs: number): Promise<number> {
  let deleted = 0;
  for (let round = 0; round < DELETES_PER_PASS; round += 1) {
    const keys = (await db.knex('idempotency_keys').select('scope', 'idempotency_key').where('expires_at_ms', '<', nowMs).limit(KEYS_PER_DELETE)) as Array<{ scope: string; idempotency_key: string }>;
    if (keys.length === 0) break;
    deleted += await db
      .knex('idempotency_keys')
      .whereIn(
        ['scope', 'idempotency_key'],
        keys.map((key) => [key.scope, key.idempotency_key]),
      )
      .where('expires_at_ms', '<', nowMs)
      .delete();
    if (keys.length < KEYS_PER_DELETE) break;
  }
  return deleted;
}

/**
 * Purges expired keys every `intervalMs`, so remembered responses (up to a body's size each) last
 * their time to live rather than forever. Every replica runs it; their passes delete disjoint or
 * already-deleted rows, which costs nothing.
 */
export function createKeyPurge({ db, logger, intervalMs, now }: { db: Database; logger: Logger; intervalMs: number; now: () => number }) {
  const { stop } = createPeriodicPass({
    intervalMs,
    pass: () =>
      purgeExpiredKeys(db, now())
        .then((deleted) => {
          if (deleted > 0) logger.info({ deleted }, 'expired idempotency keys deleted');
        })
        .catch((error: unknown) => logger.warn({ err: loggableError(error) }, 'deleting expired idempotency keys failed; the next pass retries')),
  });
  return { stop };
}
