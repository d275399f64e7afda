import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, waitUntilUp, type Started } from './harness.js';

/**
 * The OpenTelemetry Collector make bench sends the traced service's spans to (scripts/install-otelcol):
 * an OTLP/HTTP receiver and the nop exporter, so the figures are the service's cost of tracing
 * (recording, batching, encoding, sending), not a disk's.
 */
export async function startCollector(started: Started): Promise<{ endpoint: string }> {
  const binary = execFileSync('scripts/install-otelcol', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const port = await freePort();
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
  await waitUntilUp(endpoint);
  return { endpoint };
}
