import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knex, { type Knex } from 'knex';
import mysql from 'mysql2';

import { engineOf, type Engine } from './engine.js';
import { flavorOf, registerSqliteTimeLimit, withTimeLimit, type Flavor } from './time-limit.js';

export type { Engine };

/**
 * A read statement: a knex builder, or SQL with `?` placeholders and its bindings. `prepared`
 * marks a constant statement sent as a server-side prepared statement on MySQL/MariaDB (parsed
 * once per connection, as the bare mysql2 baseline of `make bench` does); only for a fixed set of
 * statements, since each connection keeps every statement it prepared.
 */
export type ReadStatement = Knex.QueryBuilder | { sql: string; bindings: readonly unknown[]; prepared?: boolean };

/**
 * Bounds of one read on MySQL/MariaDB: stopped by the server after `timeLimitMs`, and by
 * `KILL QUERY` when `signal` aborts. SQLite runs a statement synchronously: neither applies there
 * (a search bounds its scans itself: time-limit.ts).
 */
export type ReadLimits = { timeLimitMs?: number; signal?: AbortSignal | undefined };

export type Database = {
  knex: Knex;
  engine: Engine;
  /**
   * Runs a read on a pooled connection and returns its rows. On MySQL/MariaDB this skips knex's
   * query runner (about a third of the service's CPU per primary-key read in `make bench`); the
   * statement still emits knex's `query` and `query-response` events, so metrics see it.
   */
  select<Row>(statement: ReadStatement, limits?: ReadLimits): Promise<Row[]>;
  close(): Promise<void>;
};

type Send = (sql: string, bindings: readonly unknown[], callback: (error: Error | null, rows: unknown) => void) => void;
type MysqlConnection = { threadId: number; destroy(): void; query: Send; execute: Send };

/** What the pool's connections found the server to be (set as the first connects). */
type Server = { flavor: Flavor };

function directSelect(db: Knex, server: Server) {
  let sequence = 0;
  return async <Row>(statement: ReadStatement, limits: ReadLimits = {}): Promise<Row[]> => {
    const native = 'toSQL' in statement ? statement.toSQL().toNative() : statement;
    const connection = (await db.client.acquireConnection()) as MysqlConnection;
    const { timeLimitMs } = limits;
    const sql = timeLimitMs === undefined ? native.sql : withTimeLimit(native.sql, server.flavor, timeLimitMs);
    // A time limit makes the text vary per call: never prepared.
    const send = 'prepared' in native && native.prepared && timeLimitMs === undefined ? connection.execute : connection.query;
    const { bindings } = native;
    // Observers (metrics, traces) see the statement itself; the time limit is how it is sent.
    const event = { __knexQueryUid: `direct-${(sequence += 1)}`, sql: native.sql, bindings, method: 'select' };
    // The caller went away: the server stops the statement, from another connection of the pool.
    let abandoned = false;
    const kill = () => {
      abandoned = true;
      void db.raw('KILL QUERY ?', [connection.threadId]).catch(() => undefined);
    };
    limits.signal?.addEventListener('abort', kill, { once: true });
    db.emit('query', event);
    try {
      limits.signal?.throwIfAborted();
      const rows = await new Promise<Row[]>((resolve, reject) =>
        send.call(connection, sql, bindings, (error, result) => (error ? reject(error) : resolve(result as Row[]))),
      );
      db.emit('query-response', rows, event);
      return rows;
    } catch (error) {
      db.emit('query-error', error, event);
      throw error;
    } finally {
      limits.signal?.removeEventListener('abort', kill);
      // A KILL may still be queued for this thread: the connection serves no other statement (the
      // pool drops it), and a thread id is never reused, so a late KILL finds nothing to stop.
      if (abandoned) connection.destroy();
      await db.client.releaseConnection(connection);
    }
  };
}

/** A database this service cannot write to correctly, and the setting to change (on either side). */
class UnfitDatabase extends Error {
  constructor(
    readonly setting: 'DATABASE_URL' | 'INSERT_BATCH_SIZE' | 'NDJSON_BODY_LIMIT',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A multi-row INSERT must get consecutive ids (records-store.ts reads them from the first id). A
 * server stepping ids by more than one (auto_increment_increment, which Galera's default
 * wsrep_auto_increment_control sets to the cluster size) would make bulk responses, replays and
 * the search index name ids that do not exist: every connection is checked, and refused. So is a
 * Galera node that leaves wsrep_auto_increment_control on even while it steps by one (a cluster of
 * one node, at bootstrap or while the others are down): when a node joins, Galera raises the step
 * of every session, connections already in the pool included.
 */
export class InconsecutiveIds extends UnfitDatabase {
  constructor(message: string) {
    super('DATABASE_URL', message);
  }
}

const ID_STEP = 'SELECT @@auto_increment_increment AS step, VERSION() AS version, @@max_allowed_packet AS packet';
/** Galera's two settings: none on MySQL, both on MariaDB builds with wsrep (off unless a cluster). */
const GALERA = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('wsrep_on', 'wsrep_auto_increment_control')";

type GaleraSetting = { Variable_name: string; Value: string };

const ID_FIX = 'set auto_increment_increment=1 (on Galera also wsrep_auto_increment_control=OFF, with every write on one primary)';

/** Why a server stepping ids by `step` cannot give one INSERT consecutive ids, or null when it can. */
function idStepError(step: unknown): InconsecutiveIds | null {
  if (Number(step) === 1) return null;
  return new InconsecutiveIds(`the database steps AUTO_INCREMENT ids by ${String(step)} (@@auto_increment_increment); one multi-row INSERT must get consecutive ids: ${ID_FIX}`);
}

/** Why a Galera node may start stepping ids in open sessions, or null when it will not (or is no Galera node). */
function galeraError(galera: GaleraSetting[]): InconsecutiveIds | null {
  const setting = (name: string) => galera.find((row) => row.Variable_name === name)?.Value.toUpperCase();
  if (setting('wsrep_on') !== 'ON' || setting('wsrep_auto_increment_control') !== 'ON') return null;
  return new InconsecutiveIds(
    `the database is a Galera node with wsrep_auto_increment_control=ON, which raises @@auto_increment_increment to the cluster's size whenever a node joins, in open sessions too; one multi-row INSERT must get consecutive ids: ${ID_FIX}`,
  );
}

/**
 * The largest statements the service sends (`largestInsert` in createDatabase): INSERTs of up to
 * `rows` records of up to `rowBytes` each, the search index's of up to `indexBytes`, and the
 * responses remembered for Idempotency-Keys (data/idempotency-store.ts).
 */
export type LargestInsert = {
  rows: number;
  rowBytes: number;
  indexBytes: number;
  remembered: { documentBytes: number; streamBytes: number; streamLimitWithin(packet: number): number };
};

const MIB = 2 ** 20;
/** A statement's head (table, columns) is a few hundred bytes; a KiB is kept for it. */
const HEAD_BYTES = 1024;

/** Why the server would refuse the largest INSERT (over max_allowed_packet), or null when it fits. */
function packetError(packet: number, { rows, rowBytes, indexBytes, remembered }: LargestInsert): UnfitDatabase | null {
  const refused = `which it would refuse on every retry`;
  if (Math.max(indexBytes, remembered.documentBytes) + HEAD_BYTES > packet) {
    const needed = Math.ceil((Math.max(indexBytes, remembered.documentBytes) + HEAD_BYTES) / MIB);
    return new UnfitDatabase(
      'DATABASE_URL',
      `the database's max_allowed_packet (${packet} bytes) cannot hold the search index's statements (up to ${indexBytes + HEAD_BYTES} bytes) and the responses remembered for Idempotency-Keys (up to ${remembered.documentBytes + HEAD_BYTES} bytes, a JSON request's 10,000 rejections), ${refused}: raise max_allowed_packet to at least ${needed} MiB`,
    );
  }
  if (rows * rowBytes + HEAD_BYTES > packet) {
    const fits = Math.floor((packet - HEAD_BYTES) / rowBytes);
    return new UnfitDatabase(
      'INSERT_BATCH_SIZE',
      `one INSERT of ${rows} rows can take ${(rows * rowBytes / MIB).toFixed(1)} MiB (rows of up to ${(rowBytes / 1024).toFixed(1)} KiB at the maximum title and URI lengths), over the database's max_allowed_packet (${(packet / MIB).toFixed(0)} MiB), ${refused}: set INSERT_BATCH_SIZE to at most ${fits}, or raise max_allowed_packet`,
    );
  }
  if (remembered.streamBytes + HEAD_BYTES <= packet) return null;
  return new UnfitDatabase(
    'NDJSON_BODY_LIMIT',
    `a stream's response remembered for an Idempotency-Key can take ${(remembered.streamBytes / MIB).toFixed(1)} MiB (its ids as ranges, one per INSERT of ${rows} rows at most), over the database's max_allowed_packet (${(packet / MIB).toFixed(0)} MiB), ${refused}: set NDJSON_BODY_LIMIT to at most ${remembered.streamLimitWithin(packet - HEAD_BYTES)}, raise INSERT_BATCH_SIZE, or raise max_allowed_packet`,
  );
}

type CheckedConnection = { query<Row>(sql: string, callback: (error: Error | null, rows: Row[]) => void): void; destroy(): void };

/** Checks each new connection's id settings (and packet size), and notes which server it reached. */
const checkConnection = (server: Server, largestInsert?: LargestInsert) => (connection: CheckedConnection, done: (error: Error | null, connection: unknown) => void): void => {
  const finish = (refused: Error | null, version?: string) => {
    // A refused connection never joins the pool, so the pool would never close it.
    if (refused) connection.destroy();
    else server.flavor = flavorOf(version ?? '');
    done(refused, connection);
  };
  connection.query<{ step: unknown; version: string; packet: unknown }>(ID_STEP, (error, rows) => {
    if (error) return finish(error);
    const [settings] = rows;
    const refused = idStepError(settings?.step) ?? (largestInsert ? packetError(Number(settings?.packet), largestInsert) : null);
    if (refused) return finish(refused);
    // A server (or proxy) that cannot answer SHOW ... WHERE is taken for no Galera node.
    connection.query<GaleraSetting>(GALERA, (showError, galera) => finish(showError ? null : galeraError(galera), String(settings?.version ?? '')));
  });
};

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
    queryFormat: sentAsWritten,
  };
}

/**
 * mysql2 formats every statement it is given, values or none, and formatting scans the whole
 * text for placeholders, one character at a time, on the event loop. The bulk INSERTs arrive
 * formatted already (on a write worker, data/insert-rows.ts), hundreds of KiB each: a statement
 * with no values is sent as written, which is what formatting it with none gives. Others are
 * formatted as mysql2 would (the same function, settings and time zone).
 */
export function sentAsWritten(this: { config: { stringifyObjects?: boolean } }, sql: string, values: Parameters<typeof mysql.format>[1], timezone?: string): string {
  if (values === undefined || (Array.isArray(values) && values.length === 0)) return sql;
  return mysql.format(sql, values, this.config.stringifyObjects, timezone);
}

/**
 * Opens the database named by DATABASE_URL: `mysql://user:pass@host:port/db` (MySQL 8 or
 * MariaDB through mysql2) or a file path for the embedded SQLite default.
 */
export function createDatabase(databaseUrl: string, options: { poolMax?: number; largestInsert?: LargestInsert } = {}): Database {
  if (engineOf(databaseUrl) === 'sqlite') {
    if (databaseUrl !== ':memory:') mkdirSync(dirname(databaseUrl), { recursive: true });
    return sqliteDatabase(databaseUrl);
  }
  const server: Server = { flavor: 'mysql' };
  const db = knex({
    client: 'mysql2',
    connection: mysqlConnection(databaseUrl),
    pool: { min: 0, max: options.poolMax ?? 10, afterCreate: checkConnection(server, options.largestInsert) },
    acquireConnectionTimeout: 10_000,
  });
  return { knex: db, engine: 'mysql', select: directSelect(db, server), close: () => db.destroy() };
}

type SqliteConnection = { pragma(statement: string): unknown } & Parameters<typeof registerSqliteTimeLimit>[0];

function sqliteKnex(filename: string, readonly: boolean): Knex {
  return knex({
    client: 'better-sqlite3',
    connection: { filename, options: { readonly } },
    useNullAsDefault: true,
    pool: {
      min: readonly ? 0 : 1,
      max: 1,
      afterCreate(connection: SqliteConnection, done: (error: Error | null, c: unknown) => void) {
        // WAL lets readers proceed during a write; busy_timeout waits for another process's lock.
        if (!readonly) connection.pragma('journal_mode = WAL');
        connection.pragma('busy_timeout = 5000');
        registerSqliteTimeLimit(connection);
        done(null, connection);
      },
    },
  });
}

/**
 * The embedded database: one connection writes (SQLite has one writer), and reads go to a
 * read-only connection of their own. knex holds a connection for a whole transaction, and an
 * NDJSON upload's transaction lasts as long as its body: on the writing connection alone, every
 * read, search and readiness check would wait for the upload to end. WAL lets the reading
 * connection see every committed write meanwhile. (`:memory:` is one database per connection, so
 * there both share the one.)
 */
function sqliteDatabase(filename: string): Database {
  const db = sqliteKnex(filename, false);
  const reader = filename === ':memory:' ? db : sqliteKnex(filename, true);
  // Metrics and traces listen on `knex`: they hear the reading connection's statements there too.
  if (reader !== db) for (const event of ['query', 'query-response', 'query-error']) reader.on(event, (...args: unknown[]) => db.emit(event, ...args));
  const select = async <Row>(statement: ReadStatement) => {
    const { sql, bindings } = 'toSQL' in statement ? statement.toSQL().toNative() : statement;
    return (await reader.raw(sql, bindings as Knex.RawBinding[])) as Row[];
  };
  return {
    knex: db,
    engine: 'sqlite',
    select,
    close: async () => {
      if (reader !== db) await reader.destroy();
      await db.destroy();
    },
  };
}

/**
 * The connection check at start-up: the error when a reachable database is unfit (ids stepping,
 * packets too small), null when it is fit or cannot be reached yet (every later connection is
 * checked as it is made).
 */
export async function databaseRefusal(db: Database): Promise<UnfitDatabase | null> {
  if (db.engine !== 'mysql') return null;
  try {
    await db.knex.raw('select 1');
    return null;
  } catch (error) {
    return error instanceof UnfitDatabase ? error : null;
  }
}
