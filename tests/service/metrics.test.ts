import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { sample } from '../support/metrics-text.js';
import { scrape, type ScrapeJob } from '../support/prometheus.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';
import { latencyThresholds, slowBucketSelectors } from '../support/latency-rules.js';

/** The one autoscaling query, as the chart's ScaledObject reads it. */
const AUTOSCALING_QUERY = readFileSync('charts/records/files/request-rate.promql', 'utf8').trim();

describe('metrics', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('mysql', { REDIS_URL: process.env.TEST_REDIS_URL ?? '', CACHE_KEY_PREFIX: `m${Date.now()}:` });
  });
  after(async () => app?.close());

  it('exports request durations by router template, never the raw path', async function () {
    const created = await postJson(app.baseUrl, '/v1/bulk', { items: [{ title: 'metric', date: '2020-01-01' }, { date: 'May 23' }] });
    const id = created.body.ids[0];
    await request(app.baseUrl, `/v1/${id}`);
    await request(app.baseUrl, `/v1/${id}`);
    await request(app.baseUrl, '/v1/?contains=metric');
    await request(app.baseUrl, '/no/such/path');
    const text = (await request(app.baseUrl, '/metrics')).body as string;

    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/:id', status_code: '200' })).to.equal(2);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1', status_code: '200' })).to.equal(1);
    expect(sample(text, 'http_request_duration_seconds_count', { method: 'POST', route: '/v1/bulk', status_code: '200' })).to.equal(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' })).to.equal(1);
    expect(text).not.to.contain(`route="/v1/${id}"`);
    expect(text).not.to.contain('/no/such/path');
  });

  it('exports cache, database, ingest and availability metrics', async function () {
    const text = (await request(app.baseUrl, '/metrics')).body as string;
    expect(sample(text, 'cache_requests_total', { operation: 'record', outcome: 'miss' })).to.be.at.least(1);
    expect(sample(text, 'cache_requests_total', { operation: 'record', outcome: 'hit' })).to.be.at.least(1);
    expect(sample(text, 'cache_errors_total')).to.equal(0);
    expect(sample(text, 'db_query_duration_seconds_count', { operation: 'insert', outcome: 'ok' })).to.be.at.least(1);
    expect(sample(text, 'db_query_duration_seconds_count', { operation: 'select', outcome: 'ok' })).to.be.at.least(1);
    expect(sample(text, 'records_ingested_total')).to.equal(1);
    expect(sample(text, 'records_rejected_total')).to.equal(1);
    expect(sample(text, 'redis_up')).to.equal(1);
    await request(app.baseUrl, '/readyz');
    expect(sample((await request(app.baseUrl, '/metrics')).body, 'database_up')).to.equal(1);
  });

  it('exports neither redis_up nor cache outcomes where there is nothing to report (redis_up read 0 without Redis, and CACHE=off counted every read as a bypass: RecordsCacheUnavailable fired for good)', async function () {
    for (const env of [{}, { CACHE: 'off' }] as Array<Record<string, string>>) {
      const other = await startTestApp('sqlite', env);
      try {
        await request(other.baseUrl, '/v1/1');
        const text = (await request(other.baseUrl, '/metrics')).body as string;
        expect(text, JSON.stringify(env)).not.to.match(/^redis_up/m);
        if ('CACHE' in env) expect(text, 'CACHE=off').not.to.match(/^cache_requests_total\{/m);
        else expect(sample(text, 'cache_requests_total', { operation: 'record', outcome: 'miss' }), 'the in-process cache').to.equal(1);
      } finally {
        await other.close();
      }
    }
  });

  it('exports the process and Node.js default metrics', async function () {
    const text = (await request(app.baseUrl, '/metrics')).body as string;
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(sample(text, name), name).to.be.a('number');
    }
  });
});

describe('the autoscaling query (charts/records/files/request-rate.promql), evaluated by a real Prometheus', function () {
  this.timeout(60_000);
  const job = 'records-autoscaling';
  let pods: TestApp[] = [];
  let prometheus: ScrapeJob | undefined;

  before(async function () {
    pods = [await startTestApp('sqlite'), await startTestApp('sqlite')];
    prometheus = await scrape(job, pods.map((pod) => pod.baseUrl.replace('http://', '')));
  });
  after(async function () {
    prometheus?.stop();
    for (const pod of pods) await pod.close();
  });

  it('returns the average API request rate per pod', async function () {
    // 30 req/s on one pod and about 3 req/s on the other: about 16.5 req/s per pod. Health checks
    // and scrapes go on meanwhile and must not count. Prometheus scrapes every second, so a 10 s
    // window (the chart's is 1m) is full after 11 s of traffic; the query runs while it goes on.
    const started = Date.now();
    let sent = 0;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        const tick = Date.now();
        const [busy, quiet] = pods as [TestApp, TestApp];
        const batch = [request(busy.baseUrl, '/v1/?limit=1'), request(busy.baseUrl, '/v1/1'), request(busy.baseUrl, '/v1/?limit=2')];
        if (sent % 3 === 0) batch.push(request(quiet.baseUrl, '/v1/?limit=1'));
        batch.push(request(quiet.baseUrl, '/healthz'), request(busy.baseUrl, '/readyz'));
        await Promise.all(batch);
        sent += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - tick))));
      }
    })();
    let perPod: number | null;
    let sentPerSecond: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      await prometheus!.scrapedAfter(Date.now() / 1000);
      perPod = await prometheus!.value(AUTOSCALING_QUERY.replaceAll('__SELECTOR__', `job="${job}"`).replaceAll('__WINDOW__', '10s'));
      sentPerSecond = (sent * 3 + Math.ceil(sent / 3)) / ((Date.now() - started) / 1000);
    } finally {
      sending = false;
      await traffic;
    }
    expect(perPod, 'query result').to.be.a('number');
    // rate() extrapolates at the edges of the window, so allow a band around the true figure.
    expect(perPod).to.be.within((sentPerSecond / 2) * 0.75, (sentPerSecond / 2) * 1.25);
    expect(await prometheus!.value(`count(up{job="${job}"} == 1)`)).to.equal(2);
  });

  it('has the series the latency alerts\' rules select, for every threshold the chart accepts, on Prometheus 2 too (Debian\'s keeps le="1", where Prometheus 3 stores "1.0": latency-rules-prometheus3.test.ts)', async function () {
    const thresholds = latencyThresholds();
    expect(thresholds).to.include.members(['0.25', '1', '10']);
    await request(pods[0]!.baseUrl, '/v1/?limit=1');
    await prometheus!.scrapedAfter(Date.now() / 1000);
    // The form this Prometheus keeps: Prometheus 3 would have made it "1.0".
    expect(await prometheus!.value(`count(http_request_duration_seconds_bucket{job="${job}",le="1"})`), 'le="1" stored as written').to.be.greaterThan(0);
    for (const threshold of thresholds) {
      const selectors = slowBucketSelectors(threshold, `job="${job}"`);
      expect(selectors, threshold).to.have.length.greaterThan(0);
      for (const buckets of selectors) expect(await prometheus!.value(`count(${buckets})`), `${threshold}: ${buckets}`).to.be.greaterThan(0);
    }
  });
});
