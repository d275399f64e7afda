import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A MariaDB of the test's own (scripts/mariadb), for tests that kill it and bring it back. */
export class OwnMariaDB {
  readonly dir = mkdtempSync(join(tmpdir(), 'records-mariadb-'));
  url = '';

  start(): this {
    const output = execFileSync('scripts/mariadb', ['start', this.dir], { encoding: 'utf8' });
    this.url = /MYSQL_URL=(\S+)/.exec(output)?.[1] ?? '';
    return this;
  }

  /** SIGKILL: the server dies mid-transaction, as a crashed node would. */
  kill(): void {
    process.kill(Number(readFileSync(join(this.dir, 'server.pid'), 'utf8')), 'SIGKILL');
  }

  restart(): void {
    execFileSync('scripts/mariadb', ['restart', this.dir]);
  }

  dispose(): void {
    execFileSync('scripts/mariadb', ['stop', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
