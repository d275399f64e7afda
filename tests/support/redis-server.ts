import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A redis-server of the test's own (scripts/redis), for tests that stop, pause or restart it.
 * It keeps its port across restarts, as a Redis behind a Service would.
 */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'records-redis-'));
  port = 0;

  start(): this {
    const output = execFileSync('scripts/redis', ['start', this.dir, ...(this.port ? [String(this.port)] : [])], { encoding: 'utf8' });
    this.port = Number(/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    return this;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return Number(readFileSync(join(this.dir, 'server.pid'), 'utf8'));
  }

  stop(): void {
    execFileSync('scripts/redis', ['stop', this.dir]);
  }

  /** Freezes the server: connections stay open but nothing answers, like an overloaded Redis. */
  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  dispose(): void {
    try {
      this.resume();
    } catch {
      /* already stopped */
    }
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
