import type { Database } from '../data/database.js';
import { migrationsCurrent } from '../data/migrations/index.js';
import type { Metrics } from './metrics.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Readiness: not shutting down, the database answers, and its migrations are current. Redis is
 * deliberately not checked: without it the service degrades to the database and still serves.
 */
export function createReadinessCheck({ db, metrics, isShuttingDown }: { db: Database; metrics: Metrics; isShuttingDown: () => boolean }) {
  // Migrations only move forward while a process runs; once current, there is no need to ask again.
  let migrated = false;
  return async (): Promise<Readiness> => {
    if (isShuttingDown()) return { ready: false, reason: 'shutting down' };
    try {
      // On a read connection, as reads are: a long write transaction does not make the process unready.
      await withTimeout(db.select({ sql: 'select 1', bindings: [] }), CHECK_TIMEOUT_MS);
      metrics.databaseUp.set(1);
    } catch (error) {
      metrics.databaseUp.set(0);
      return { ready: false, reason: `database unreachable: ${(error as Error).message.slice(0, 200)}` };
    }
    if (!migrated) {
      migrated = await withTimeout(migrationsCurrent(db), CHECK_TIMEOUT_MS).catch(() => false);
      if (!migrated) return { ready: false, reason: 'database migrations are not current; run `records migrate`' };
    }
    return { ready: true };
  };
}

export type ReadinessCheck = ReturnType<typeof createReadinessCheck>;
