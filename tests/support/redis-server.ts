import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A redis-server of the test's own (scripts/redis), for tests that stop, pause or restart it.
 * It keeps its port across restarts, as a Redis behind a Service would. Starting and stopping
 * are asynchronous: the service under test often runs in the test's own process, and a blocking
 * call would freeze it too (searches in flight ran past their time limit while Redis stopped).
 */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'records-redis-'));
  port = 0;

  async start(): Promise<this> {
    const { stdout } = await run('scripts/redis', ['start', this.dir, ...(this.port ? [String(this.port)] : [])], { encoding: 'utf8' });
    this.port = Number(/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    return this;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return Number(readFileSync(join(this.dir, 'server.pid'), 'utf8'));
  }

  async stop(): Promise<void> {
    await run('scripts/redis', ['stop', this.dir]);
  }

  /** Freezes the server: connections stay open but nothing answers, like an overloaded Redis. */
  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async dispose(): Promise<void> {
    try {
      this.resume();
    } catch {
      /* already stopped */
    }
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
