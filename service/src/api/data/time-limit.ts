/**
 * Statement time limits for searches, per engine: MariaDB stops a statement run under
 * `SET STATEMENT max_statement_time=S FOR ...`, MySQL 8 a SELECT carrying the optimizer hint
 * MAX_EXECUTION_TIME(ms); SQLite has neither, so a scan's WHERE starts with
 * `within_time_limit(deadline)`, a function registered on every connection that stops the
 * statement once the deadline has passed (evaluated per row the scan visits).
 */

/** Which MySQL-protocol server a connection reached (they spell the time limit differently). */
export type Flavor = 'mariadb' | 'mysql';

export const flavorOf = (version: string): Flavor => (/mariadb/i.test(version) ? 'mariadb' : 'mysql');

/** `sql` (one SELECT) with the server's own time limit of `ms` milliseconds. */
export function withTimeLimit(sql: string, flavor: Flavor, ms: number): string {
  if (flavor === 'mariadb') return `SET STATEMENT max_statement_time=${(ms / 1000).toFixed(3)} FOR ${sql}`;
  return sql.replace(/^\s*select\b/i, `select /*+ MAX_EXECUTION_TIME(${ms}) */`);
}

/** Raised by SQLite's within_time_limit once the deadline has passed. */
class TimeLimitReached extends Error {}

/** ER_STATEMENT_TIMEOUT (MariaDB), ER_QUERY_TIMEOUT (MySQL), or SQLite's deadline. */
export function isTimeLimit(error: unknown): boolean {
  if (error instanceof TimeLimitReached) return true;
  const errno = (error as { errno?: number } | null)?.errno;
  return errno === 1969 || errno === 3024;
}

type SqliteConnection = { function(name: string, options: { deterministic: boolean }, implementation: (deadline: number) => number): unknown };

/** Registers within_time_limit(deadlineMs) on a better-sqlite3 connection. */
export function registerSqliteTimeLimit(connection: SqliteConnection): void {
  connection.function('within_time_limit', { deterministic: false }, (deadline) => {
    if (Date.now() > deadline) throw new TimeLimitReached('the search reached its time limit');
    return 1;
  });
}
