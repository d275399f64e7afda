import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild, type Started } from './harness.js';

/**
 * The OpenTelemetry Collector make bench sends the traced service's spans to (scripts/install-otelcol):
 * an OTLP/HTTP receiver and the nop exporter, so the figures are the service's cost of tracing
 * (recording, batching, encoding, sending), not a disk's.
 */
export async function startCollector(started: Started): Promise<{ endpoint: string }> {
  const binary = execFileSync('scripts/install-otelcol', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'records-bench-otelcol.'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${port}" } } } }\nexporters: { nop: {} }\nservice:\n  telemetry: { metrics: { level: none } }\n  pipelines: { traces: { receivers: [otlp], exporters: [nop] } }\n`,
  );
  const child = spawn(binary, ['--config', config], { stdio: 'ignore' });
  started.push({
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (await fetch(endpoint).then(() => true, () => false)) break;
    if (attempt > 100) throw new Error('the collector did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint };
}
