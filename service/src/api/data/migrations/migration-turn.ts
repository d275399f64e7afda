import type { Knex } from 'knex';

/** The table whose one row a `records migrate` run holds locked for as long as it runs. */
const TURN_TABLE = 'records_migration_turn';
/** How long a run waits for another to finish (the migrations Job's deadline is 600 s). */
const WAIT_SECONDS = 600;

/**
 * Runs `work` holding the migrations' turn. On MySQL/MariaDB the turn is a row lock held by a
 * transaction on a connection of its own, which the server releases when that connection drops:
 * a run killed midway (the Job's deadline, an evicted pod) never blocks the next. knex's own lock
 * row cannot do that there: MySQL commits the first DDL at once, with the lock row taken inside
 * the same transaction, so a killed run leaves it taken for good. Holding the turn, a run frees
 * that lock, which only a killed run can have left. (GET_LOCK would release with the connection
 * too, but Galera refuses it.) SQLite's DDL is transactional: a killed run leaves nothing behind.
 * On Galera the row lock is the node's own, not the cluster's: two runs exclude each other when
 * both reach the same node, as the migrations Job does through the primary's Service.
 */
export async function withMigrationTurn<T>(knex: Knex, config: Knex.MigratorConfig, work: () => Promise<T>): Promise<T> {
  if (knex.client.config.client !== 'mysql2') return work();
  await knex.raw(`create table if not exists ${TURN_TABLE} (id int primary key) engine = InnoDB`);
  const turn = await knex.transaction();
  try {
    // Every statement that may wait for another run's turn waits on this connection, at this
    // bound: even inserting the row waits, for a shared lock on the key the other run holds.
    await turn.raw(`set session innodb_lock_wait_timeout = ${WAIT_SECONDS}`);
    await turn.raw(`insert ignore into ${TURN_TABLE} (id) values (1)`);
    await turn.raw(`select id from ${TURN_TABLE} where id = 1 for update`);
    await knex.migrate.forceFreeMigrationsLock(config);
    return await work();
  } finally {
    // The connection goes back to the pool: what runs on it next keeps the server's usual bound.
    await turn.raw('set session innodb_lock_wait_timeout = default').catch(() => undefined);
    await turn.rollback();
  }
}
