import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createDatabase } from '../../service/src/api/data/database.js';
import { migrateLatest } from '../../service/src/api/data/migrations/index.js';
import { statementShape } from '../../service/src/api/observability/tracing-sdk.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { JwksServer, generateTestKey } from '../support/jwks-server.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';

/**
 * Traces from the service through a real OpenTelemetry Collector (scripts/install-otelcol builds
 * it from its Go modules: an OTLP receiver and the file exporter) on loopback. The service runs
 * as a process with the tracing module preloaded, as the image's entrypoint does, against
 * MariaDB, Redis and a JWKS endpoint served here.
 */

type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; scope: string; attributes: Record<string, unknown> };

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Every span the collector wrote so far (the file exporter writes one OTLP JSON document per line). */
function exportedSpans(file: string): Span[] {
  if (!existsSync(file)) return [];
  const value = (attribute: { value: Record<string, unknown> }) => Object.values(attribute.value)[0];
  const spans: Span[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const document = JSON.parse(line) as {
      resourceSpans: Array<{ scopeSpans: Array<{ scope: { name: string }; spans: Array<Omit<Span, 'scope' | 'attributes'> & { attributes?: Array<{ key: string; value: Record<string, unknown> }> }> }> }>;
    };
    for (const resource of document.resourceSpans)
      for (const scoped of resource.scopeSpans)
        for (const span of scoped.spans)
          spans.push({ ...span, scope: scoped.scope.name, attributes: Object.fromEntries((span.attributes ?? []).map((a) => [a.key, value(a)])) });
  }
  return spans;
}

describe('OpenTelemetry traces through a real collector', function () {
  this.timeout(600_000);
  const idp = new JwksServer();
  const dir = mkdtempSync(join(tmpdir(), 'records-tracing-'));
  const spansFile = join(dir, 'spans.jsonl');
  const tag = uniqueTag();
  let collector: ChildProcess;
  let database: TestDatabase;
  let service: ServiceProcess;
  let token: string;

  before(async function () {
    const binary = execFileSync('scripts/install-otelcol', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const otlpPort = await freePort();
    writeFileSync(
      join(dir, 'collector.yaml'),
      [
        'receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:' + otlpPort + '" } } } }',
        `exporters: { file: { path: "${spansFile}", flush_interval: 100ms } }`,
        'service:',
        '  telemetry: { metrics: { level: none } }',
        '  pipelines: { traces: { receivers: [otlp], exporters: [file] } }',
      ].join('\n'),
    );
    collector = spawn(binary, ['--config', join(dir, 'collector.yaml')], { stdio: 'ignore' });
    await waitFor('the collector to listen', async () => fetch(`http://127.0.0.1:${otlpPort}/`).then(() => true, () => false));

    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    token = idp.sign({ sub: 'tracer' });
    database = await createTestDatabase('mysql');
    const db = createDatabase(database.url);
    await migrateLatest(db.knex);
    await db.close();
    service = await ServiceProcess.start(
      {
        DATABASE_URL: database.url,
        REDIS_URL: process.env.TEST_REDIS_URL as string,
        CACHE_KEY_PREFIX: `${tag}:`,
        AUTH_MODE: 'required',
        AUTH_ISSUERS: JSON.stringify([idp.trusted]),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      { preload: ['./service/src/api/tracing.ts'] },
    );
  });

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
    ]);
    for (const insert of inserts) expect(descends(spans, insert, route as Span), 'MySQL spans under the route span').to.equal(true);
    const redis = spans.filter((span) => span.scope.includes('ioredis'));
    expect(redis.length, 'the cache generation bump after the commit').to.be.greaterThan(0);
    for (const command of redis) expect(descends(spans, command, server as Span)).to.equal(true);

    // The first token needed the issuer's keys: that fetch belongs to the same trace.
    expect(idp.traceparents.some((header) => header?.startsWith(`00-${traceId}-`)), String(idp.traceparents)).to.equal(true);
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

  it('exports no titles, URIs, search terms, ids in paths or tokens', async function () {
    const exported = readFileSync(spansFile, 'utf8');
    expect(exported).not.to.contain(tag);
    expect(exported).not.to.contain('secret title');
    expect(exported).not.to.contain(`/v1/${storedId}`);
    expect(exported).not.to.contain(token.split('.')[2]);
    expect(exported).not.to.match(/Bearer/i);
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', function () {
  this.timeout(60_000);

  /** The modules a process resolved after preloading the tracing module with `env`, as a list of specifiers. */
  function resolvedWith(env: Record<string, string>): string[] {
    // A resolve hook records every specifier; then the tracing module is imported as the image does.
    const recorder = `import { registerHooks } from 'node:module'; globalThis.resolved = []; registerHooks({ resolve(specifier, context, next) { globalThis.resolved.push(specifier); return next(specifier, context); } });`;
    const output = execFileSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, '--import', 'tsx', '--import', './service/src/api/tracing.ts', '--input-type=module', '-e', 'await new Promise((r) => setTimeout(r, 200)); console.log(JSON.stringify(globalThis.resolved))'],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } },
    );
    return JSON.parse(output.trim().split('\n').at(-1) as string) as string[];
  }

  it('loads nothing of OpenTelemetry, and does once an endpoint is set', function () {
    expect(resolvedWith({}).filter((specifier) => specifier.includes('@opentelemetry') || specifier.includes('tracing-sdk'))).to.deep.equal([]);
    const on = resolvedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(on.some((specifier) => specifier.includes('tracing-sdk')), 'the check can see the SDK load').to.equal(true);
    expect(resolvedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }).filter((specifier) => specifier.includes('tracing-sdk'))).to.deep.equal([]);
  });
});

describe('statementShape (the SQL recorded on MySQL spans)', function () {
  it('keeps the statement and drops its data: VALUES lists, quoted and hex literals, numbers', function () {
    expect(statementShape("insert into records (title, uri) values ('a secret', 'https://x/?q=1'), ('b', null)")).to.equal('insert into records (title, uri) values ...');
    expect(statementShape("select id from records where title_folded like '%it\\'s secret%' escape '!' and id > 42")).to.equal('select id from records where title_folded like ? escape ? and id > ?');
    expect(statementShape("insert into title_postings (trigram, first_id, n, ids) VALUES ('abc', 7, 1, X'00')")).to.equal('insert into title_postings (trigram, first_id, n, ids) values ...');
    expect(statementShape('select * from records where id = ?')).to.equal('select * from records where id = ?');
    expect(statementShape("select 1 from t where a = X'0aff' and b = \"x\"")).to.equal('select ? from t where a = ? and b = ?');
  });
});
