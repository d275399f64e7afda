/** Which SQL engine a DATABASE_URL names: the one place that decides it. */
export type Engine = 'mysql' | 'sqlite';

/** `mysql://...` is MySQL 8 or MariaDB (through mysql2); anything else is a SQLite file path. */
export const engineOf = (databaseUrl: string): Engine => (/^mysql:\/\//i.test(databaseUrl) ? 'mysql' : 'sqlite');
