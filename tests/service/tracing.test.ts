import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createDatabase } from '../../service/src/api/data/database.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { JwksServer, generateTestKey } from '../support/jwks-server.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';
import { exportedServiceNames, exportedSpans, freePort, type Span } from './tracing-helpers.js';

/**
 * Traces from the service through a real OpenTelemetry Collector (scripts/install-otelcol builds
 * it from its Go modules: an OTLP receiver and the file exporter) on loopback. The service runs
 * as a process with the tracing module preloaded, as the image's entrypoint does, against
 * MariaDB, Redis and a JWKS endpoint served here.
 */

describe('OpenTelemetry traces through a real collector', function () {
  this.timeout(600_000);
  const idp = new JwksServer();
  const dir = mkdtempSync(join(tmpdir(), 'records-tracing-'));
  const spansFile = join(dir, 'spans.jsonl');
  const metricsFile = join(dir, 'metrics.jsonl');
  const tag = uniqueTag();
  let collector: ChildProcess;
  let database: TestDatabase;
  let service: ServiceProcess;
  let otlpEndpoint: string;
  let token: string;

  before(async function () {
    const binary = execFileSync('scripts/install-otelcol', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const otlpPort = await freePort();
    otlpEndpoint = `http://127.0.0.1:${otlpPort}`;
    writeFileSync(
      join(dir, 'collector.yaml'),
      [
        'receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:' + otlpPort + '" } } } }',
        `exporters: { file: { path: "${spansFile}", flush_interval: 100ms }, file/other: { path: "${metricsFile}", flush_interval: 100ms } }`,
        'service:',
        '  telemetry: { metrics: { level: none } }',
        // Metrics and logs are received too, so that anything the service sends besides traces shows.
        '  pipelines: { traces: { receivers: [otlp], exporters: [file] }, metrics: { receivers: [otlp], exporters: [file/other] }, logs: { receivers: [otlp], exporters: [file/other] } }',
      ].join('\n'),
    );
    collector = spawn(binary, ['--config', join(dir, 'collector.yaml')], { stdio: 'ignore' });
    await waitFor('the collector to listen', async () => fetch(`${otlpEndpoint}/`).then(() => true, () => false));

    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    token = idp.sign({ sub: 'tracer' });
    database = await createTestDatabase('mysql');
    const db = createDatabase(database.url);
    await migrateLatest(db.knex);
    await db.close();
    service = await startTraced({
      REDIS_URL: process.env.TEST_REDIS_URL as string,
      CACHE_KEY_PREFIX: `${tag}:`,
      AUTH_MODE: 'required',
      AUTH_ISSUERS: JSON.stringify([idp.trusted]),
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
  });

  /** A service with tracing on, sending to the collector; were metrics exported, every 200 ms. */
  const startTraced = (env: Record<string, string>) =>
    ServiceProcess.start(
      { DATABASE_URL: database.url, OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_METRIC_EXPORT_INTERVAL: '200', ...env },
      // Compiled, as the image runs it (make run's tsx path: dev-run.test.ts).
      { preload: ['./service/dist/api/tracing.js'], compiled: true },
    );

  after(async function () {
    await service?.stop();
    collector?.kill('SIGTERM');
    await idp.stop();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The spans of one trace, once its server span and everything below it have been exported. */
  async function traceOf(traceId: string, expected: (spans: Span[]) => boolean): Promise<Span[]> {
    let spans: Span[] = [];
    await waitFor(`trace ${traceId}`, async () => expected((spans = exportedSpans(spansFile).filter((span) => span.traceId === traceId))));
    return spans;
  }
  const serverSpanOf = (spans: Span[]) => spans.filter((span) => span.scope.includes('instrumentation-http') && span.attributes['http.request.method'] !== undefined && !span.name.startsWith('GET /.well-known') && span.attributes['http.route'] !== undefined);
  /** True when `span` descends from `ancestor` within `spans`. */
  const descends = (spans: Span[], span: Span, ancestor: Span): boolean => {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) if (parent.spanId === ancestor.spanId) return true;
    return false;
  };
  const requestLine = (requestId: string) => service.logs.find((line) => line.msg === 'request' && line.requestId === requestId);

  let storedId = 0;

  it('continues an incoming W3C trace: server span, Koa route span, then MySQL and Redis spans, and the JWKS fetch carries traceparent', async function () {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const response = await fetch(`${service.baseUrl}/v1/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parent}-01`, 'x-request-id': `${tag}-bulk` },
      body: JSON.stringify({ items: [1, 2, 3].map((n) => ({ title: `${tag} secret title ${n}`, uri: `https://example.org/${tag}/${n}`, date: '2020-01-01' })) }),
    });
    expect(response.status).to.equal(200);
    storedId = ((await response.json()) as { ids: number[] }).ids[0] as number;

    const spans = await traceOf(traceId, (found) => found.some((span) => span.scope.includes('mysql2') && String(span.attributes['db.query.text']).startsWith('COMMIT')) && serverSpanOf(found).length === 1);
    const [server] = serverSpanOf(spans);
    expect(server?.parentSpanId, 'the server span is a child of the incoming context').to.equal(parent);
    expect(server?.attributes).to.include({ 'http.route': '/v1/bulk', 'url.path': '/v1/bulk' });
    const route = spans.find((span) => span.scope.includes('koa') && span.attributes['records.bulk.inserted'] !== undefined);
    expect(route?.attributes['records.bulk.inserted']).to.equal('3');
    expect(descends(spans, route as Span, server as Span)).to.equal(true);
    const inserts = spans.filter((span) => span.scope.includes('mysql2') && String(span.attributes['db.query.text']).startsWith('insert into'));
    expect(inserts.map((span) => span.attributes['db.query.text'])).to.deep.equal([
      'insert into records (title, uri, date_ms, date_raw, title_folded, uri_folded) values ...',
      'insert into title_postings (trigram, first_id, n, ids) values ...',
      // Three records are a small write: listed for the index's merges (docs/search-index.md).
      'insert into index_fragments (first_id, last_id, n) values ...',
    ]);
    for (const insert of inserts) expect(descends(spans, insert, route as Span), 'MySQL spans under the route span').to.equal(true);
    const redis = spans.filter((span) => span.scope.includes('ioredis'));
    expect(redis.length, 'the cache generation bump after the commit').to.be.greaterThan(0);
    for (const command of redis) expect(descends(spans, command, server as Span)).to.equal(true);

    // The first token needed the issuer's keys: that fetch belongs to the same trace.
    expect(idp.traceparents.some((header) => header?.startsWith(`00-${traceId}-`)), String(idp.traceparents)).to.equal(true);
    await waitFor('the request log line', async () => requestLine(`${tag}-bulk`) !== undefined);
    const line = requestLine(`${tag}-bulk`);
    expect(line).to.include({ trace_id: traceId, span_id: server?.spanId });
  });

  it('starts one new trace per request without traceparent, with the cache outcome and the search plan', async function () {
    const get = (path: string, requestId: string) => fetch(`${service.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId } });
    expect((await get(`/v1/${storedId}`, `${tag}-miss`)).status).to.equal(200);
    expect((await get(`/v1/${storedId}`, `${tag}-hit`)).status).to.equal(200);
    expect((await get(`/v1/?contains=${encodeURIComponent(`${tag} secret`)}`, `${tag}-search`)).status).to.equal(200);
    await waitFor('the request log lines', async () => [`${tag}-miss`, `${tag}-hit`, `${tag}-search`].every((id) => requestLine(id)));

    const traces = await Promise.all(
      [`${tag}-miss`, `${tag}-hit`, `${tag}-search`].map(async (requestId) => {
        const traceId = String(requestLine(requestId)?.trace_id);
        const spans = await traceOf(traceId, (found) => serverSpanOf(found).length === 1 && found.some((span) => span.scope.includes('koa') && span.attributes['records.cache'] !== undefined));
        return { traceId, spans };
      }),
    );
    expect(new Set(traces.map((trace) => trace.traceId)).size, 'one trace per request').to.equal(3);
    const [miss, hit, search] = traces.map(({ spans }) => spans);
    const routeOf = (spans: Span[] | undefined) => spans?.find((span) => span.attributes['records.cache'] !== undefined);
    expect(routeOf(miss)?.attributes).to.include({ 'http.route': '/v1/:id', 'records.cache': 'miss' });
    expect(miss?.some((span) => span.attributes['db.query.text'] === 'select id, title, uri, date_ms, date_raw from records where id = ?')).to.equal(true);
    expect(routeOf(hit)?.attributes).to.include({ 'records.cache': 'hit' });
    expect(hit?.some((span) => span.scope.includes('mysql2')), 'a hit does not read the database').to.equal(false);
    expect(search?.find((span) => span.attributes['records.search.plan'] !== undefined)?.attributes['records.search.plan']).to.be.oneOf(['index', 'scan']);
    for (const spans of [miss, hit, search]) expect(serverSpanOf(spans ?? [])[0]?.parentSpanId, 'a root span').to.equal(undefined);
    expect(serverSpanOf(miss ?? [])[0]?.attributes['url.path'], 'the route template, never the raw path').to.equal('/v1/:id');
  });

  it('exports traces only: no OTLP metrics or logs unless OTEL_METRICS_EXPORTER asks for metrics', async function () {
    // A second service that opts in shows the collector's metrics pipeline works, so the first's
    // silence is the service's doing.
    const optedIn = await startTraced({ AUTH_MODE: 'disabled', OTEL_SERVICE_NAME: 'records-metrics-opted-in', OTEL_METRICS_EXPORTER: 'otlp' });
    try {
      expect((await fetch(`${optedIn.baseUrl}/v1/${storedId}`)).status).to.equal(200);
      await waitFor('the opted-in service\'s metrics', async () => exportedServiceNames(metricsFile).has('records-metrics-opted-in'));
    } finally {
      await optedIn.stop();
    }
    expect([...exportedServiceNames(metricsFile)], 'what reached the metrics and logs pipelines').to.deep.equal(['records-metrics-opted-in']);
  });

  it('exports no titles, URIs, search terms, ids in paths or tokens', async function () {
    const exported = readFileSync(spansFile, 'utf8');
    expect(exported).not.to.contain(tag);
    expect(exported).not.to.contain('secret title');
    expect(exported).not.to.contain(`/v1/${storedId}`);
    expect(exported).not.to.contain(token.split('.')[2]);
    expect(exported).not.to.match(/Bearer/i);
  });
});
