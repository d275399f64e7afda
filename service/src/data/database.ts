import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';

export type Engine = 'mysql' | 'sqlite';

export type Database = {
  knex: Knex;
  engine: Engine;
  close(): Promise<void>;
};

export function engineOf(databaseUrl: string): Engine {
  return /^mysql:\/\//i.test(databaseUrl) ? 'mysql' : 'sqlite';
}

function mysqlConnection(databaseUrl: string): Knex.MySql2ConnectionConfig {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    charset: 'utf8mb4',
    timezone: 'Z',
    // Fail fast when the server is gone instead of queueing requests behind a dead socket.
    connectTimeout: 5_000,
  };
}

/**
 * Opens the database named by DATABASE_URL: `mysql://user:pass@host:port/db` (MySQL 8 or
 * MariaDB through mysql2) or a file path for the embedded SQLite default.
 */
export function createDatabase(databaseUrl: string, options: { poolMax?: number } = {}): Database {
  const engine = engineOf(databaseUrl);
  const config: Knex.Config =
    engine === 'mysql'
      ? {
          client: 'mysql2',
          connection: mysqlConnection(databaseUrl),
          pool: { min: 0, max: options.poolMax ?? 10 },
          acquireConnectionTimeout: 10_000,
        }
      : {
          client: 'better-sqlite3',
          connection: { filename: databaseUrl },
          useNullAsDefault: true,
          pool: {
            afterCreate(connection: { pragma(statement: string): unknown }, done: (error: Error | null, c: unknown) => void) {
              // WAL lets readers proceed during a bulk write; busy_timeout waits for another process's lock.
              connection.pragma('journal_mode = WAL');
              connection.pragma('busy_timeout = 5000');
              done(null, connection);
            },
          },
        };
  if (engine === 'sqlite' && databaseUrl !== ':memory:') mkdirSync(dirname(databaseUrl), { recursive: true });
  const db = knex(config);
  return { knex: db, engine, close: () => db.destroy() };
}
