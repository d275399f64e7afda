import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { request, startTestApp, type TestApp } from '../support/test-app.js';
import { latencyThresholds, slowBucketSelectors } from '../support/latency-rules.js';
import { waitFor } from '../support/wait.js';
import { freePort } from './tracing-helpers.js';

/**
 * The latency rules of charts/records/files/alerts.yaml against the series Prometheus 3 stores. It
 * writes a whole-number bucket bound as le="1.0" where Prometheus 2 (Debian's, which make test's
 * suites scrape with) keeps le="1", so a rule selecting le="1" found nothing on Prometheus 3 and its
 * alerts could never fire. The binary is Prometheus 3 built from its Go module, taken from the image
 * the cluster suites run (scripts/install-go-image, in the tools cache).
 */

/** The `prometheus` binary from the OCI archive of its image: the one layer, a plain tar holding /prometheus. */
function prometheusBinary(dir: string): string {
  const cache = execFileSync('scripts/install-go-image', ['prometheus'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const archive = join(cache, 'prometheus.tar');
  const blob = (digest: string) => execFileSync('tar', ['-xOf', archive, `blobs/sha256/${digest.replace('sha256:', '')}`], { maxBuffer: 512 * 1024 * 1024 });
  const index = JSON.parse(execFileSync('tar', ['-xOf', archive, 'index.json'], { encoding: 'utf8' }));
  const manifest = JSON.parse(blob(index.manifests[0].digest).toString('utf8'));
  const [layer] = manifest.layers as Array<{ digest: string }>;
  writeFileSync(join(dir, 'layer.tar'), blob(layer!.digest));
  execFileSync('tar', ['-xf', join(dir, 'layer.tar'), '-C', dir, 'prometheus']);
  return join(dir, 'prometheus');
}

describe('the latency alerts\' rules on Prometheus 3', function () {
  // A cold tools cache builds Prometheus first (minutes); warm, this suite takes seconds.
  this.timeout(600_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-prometheus3-'));
  let app: TestApp;
  let prometheus: ChildProcess | undefined;
  let url = '';

  before(async function () {
    const binary = prometheusBinary(dir);
    app = await startTestApp('sqlite');
    await request(app.baseUrl, '/v1/?limit=1');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      ['global: { scrape_interval: 1s }', 'scrape_configs:', `  - { job_name: records, static_configs: [ { targets: ["${app.baseUrl.replace('http://', '')}"] } ] }`].join('\n'),
    );
    prometheus = spawn(binary, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    await waitFor('Prometheus 3 to scrape the service', async () => (await count('up{job="records"} == 1')) === 1, 60_000, 250);
  });
  after(async function () {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The number of series an instant query returns (null when Prometheus cannot answer yet). */
  async function count(promql: string): Promise<number | null> {
    const answer = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`).then((response) => response.json() as Promise<any>, () => null);
    return answer?.status === 'success' ? answer.data.result.length : null;
  }

  it('is Prometheus 3, which stores a whole-number bound as "1.0"', async function () {
    const info = await (await fetch(`${url}/api/v1/status/buildinfo`)).json() as { data: { version: string } };
    expect(info.data.version).to.match(/^3\./);
    expect(await count('http_request_duration_seconds_bucket{job="records",le="1.0"}')).to.be.greaterThan(0);
    expect(await count('http_request_duration_seconds_bucket{job="records",le="1"}')).to.equal(0);
  });

  it('selects a bucket for every latency threshold the chart accepts (le="1" selected nothing)', async function () {
    const thresholds = latencyThresholds();
    expect(thresholds).to.include.members(['0.25', '1', '10']);
    for (const threshold of thresholds) {
      const selectors = slowBucketSelectors(threshold, 'job="records"');
      expect(selectors, threshold).to.have.length.greaterThan(0);
      for (const buckets of selectors) expect(await count(buckets), `${threshold}: ${buckets}`).to.be.greaterThan(0);
    }
  });
});
