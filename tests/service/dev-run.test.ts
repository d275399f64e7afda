import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { waitFor } from '../support/wait.js';

/**
 * `make run` (scripts/dev run) as a developer starts it: with authentication off it serves this
 * machine only, and it preloads tracing as the image does. The OTLP endpoint is a plain HTTP
 * listener on loopback that records what the exporter posts, played (docs/stand-ins.md): it asks
 * only whether an export is sent; the real Collector receives and checks one in tracing.test.ts.
 * Ctrl-C stops it without the pods' drain (there is no load balancer to wait for).
 */
describe('make run (scripts/dev run)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-dev-run-'));
  const posts: Array<{ path: string; type: string }> = [];
  let otlp: Server;

  before(async function () {
    otlp = createServer((request, response) => {
      posts.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '' });
      request.resume().on('end', () => response.writeHead(200).end());
    });
    await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve));
  });
  after(async function () {
    await new Promise((resolve) => otlp.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only, sends traces when OTEL_EXPORTER_OTLP_ENDPOINT is set, and stops on SIGINT without draining', async function () {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const { HOST: _host, ...environment } = process.env;
    const child = spawn('scripts/dev', ['run'], {
      env: {
        ...environment,
        PORT: String(port),
        DATABASE_URL: join(dir, 'records.sqlite'),
        LOG_LEVEL: 'info',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(otlp.address() as AddressInfo).port}`,
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines: Array<{ msg?: string; drainSeconds?: number }> = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line));
      } catch {
        /* migrate's or make's own output */
      }
    });
    const exited = new Promise((resolve) => child.once('close', resolve));
    let stopped = false;
    try {
      await waitFor('make run serving', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200, 30_000, 200);
      const listening = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n').map((line) => line.split(/\s+/)[3]);
      expect(listening, 'the addresses it listens on').to.deep.equal([`127.0.0.1:${port}`]);
      expect((await fetch(`http://127.0.0.1:${port}/v1/?limit=1`)).status).to.equal(200);
      await waitFor('a trace export', async () => posts.some((post) => post.path === '/v1/traces'), 15_000, 100);
      expect(posts.find((post) => post.path === '/v1/traces')?.type).to.match(/^application\/x-protobuf/);

      child.kill('SIGINT');
      // Bounded, so that a server that ignores SIGINT is killed below rather than left running.
      const ended = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 15_000))]);
      expect(ended, 'stopped by SIGINT').to.equal(true);
      stopped = true;
      expect(lines.find((line) => line.msg?.includes('draining'))?.drainSeconds, 'the drain of SHUTDOWN_DRAIN_SECONDS').to.equal(0);
      expect(lines.some((line) => line.msg === 'shutdown: complete'), 'a clean shutdown').to.equal(true);
    } finally {
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
