import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A MariaDB of the test's own (scripts/mariadb), for tests that kill it and bring it back.
 * Asynchronous, like OwnRedis: the service under test may run in the test's own process.
 */
export class OwnMariaDB {
  readonly dir = mkdtempSync(join(tmpdir(), 'records-mariadb-'));
  url = '';

  /**
   * `galera`: a real Galera node with wsrep_auto_increment_control ON or OFF, bootstrapping a cluster
   * of one, or with `join`, joining that node's cluster (a full state transfer by rsync).
   */
  constructor(private readonly options: { galera?: 'ON' | 'OFF'; join?: OwnMariaDB } = {}) {}

  async start(): Promise<this> {
    const { galera, join: peer } = this.options;
    const env = galera ? { ...process.env, MARIADB_GALERA: galera, ...(peer ? { MARIADB_GALERA_JOIN: peer.dir } : {}) } : process.env;
    const { stdout } = await run('scripts/mariadb', ['start', this.dir], { encoding: 'utf8', env });
    this.url = /MYSQL_URL=(\S+)/.exec(stdout)?.[1] ?? '';
    return this;
  }

  /** SIGKILL: the server dies mid-transaction, as a crashed node would. */
  kill(): void {
    process.kill(Number(readFileSync(join(this.dir, 'server.pid'), 'utf8')), 'SIGKILL');
  }

  async restart(): Promise<void> {
    await run('scripts/mariadb', ['restart', this.dir]);
  }

  async dispose(): Promise<void> {
    await run('scripts/mariadb', ['stop', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
