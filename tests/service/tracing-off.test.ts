import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { statementShape } from '../../service/src/api/observability/statement-shape.js';

describe('the tracing preload: nothing of OpenTelemetry when off; when on, hooks around the service, not the SDK', function () {
  this.timeout(60_000);

  /**
   * The modules a process resolved after preloading the tracing module with `env`, then importing
   * `imports`: each as its specifier and the URL it resolved to (`?iitm=true` where the import hooks
   * wrap it).
   */
  function resolvedWith(env: Record<string, string>, imports: string[] = []): Array<{ specifier: string; url: string }> {
    // A resolve hook records every specifier; then the tracing module is imported as the image does.
    const recorder = `import { registerHooks } from 'node:module'; globalThis.resolved = []; registerHooks({ resolve(specifier, context, next) { const result = next(specifier, context); globalThis.resolved.push({ specifier, url: result.url }); return result; } });`;
    const script = `${imports.map((name) => `await import(${JSON.stringify(name)});`).join(' ')} await new Promise((r) => setTimeout(r, 200)); console.log(JSON.stringify(globalThis.resolved))`;
    const output = execFileSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, '--import', 'tsx', '--import', './service/src/api/tracing.ts', '--input-type=module', '-e', script],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, maxBuffer: 64 * 1024 * 1024 },
    );
    return JSON.parse(output.trim().split('\n').at(-1) as string) as Array<{ specifier: string; url: string }>;
  }
  const specifiers = (resolved: Array<{ specifier: string }>) => resolved.map(({ specifier }) => specifier);
  /** With an endpoint set, then koa and node:http imported as the service imports them (one process for both tests). */
  let on: Array<{ specifier: string; url: string }> | undefined;
  const resolvedOn = () => (on ??= resolvedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }, ['koa', 'node:http']));

  it('loads nothing of OpenTelemetry, and does once an endpoint is set', function () {
    expect(specifiers(resolvedWith({})).filter((specifier) => specifier.includes('@opentelemetry') || specifier.includes('tracing-sdk'))).to.deep.equal([]);
    expect(specifiers(resolvedOn()).some((specifier) => specifier.includes('tracing-sdk')), 'the check can see the SDK load').to.equal(true);
    expect(specifiers(resolvedWith({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' })).filter((specifier) => specifier.includes('tracing-sdk'))).to.deep.equal([]);
  });

  it("once on, wraps the modules it instruments and none of the SDK's own (wrapping its 1,700 modules made the preload take 3.6 s, not 2.0)", function () {
    const wrapped = resolvedOn()
      .map(({ url }) => url)
      .filter((url) => url.includes('?iitm'));
    expect(wrapped.filter((url) => url.includes('/node_modules/@opentelemetry/')).slice(0, 3), "the SDK's modules").to.deep.equal([]);
    expect(wrapped.some((url) => url.includes('/node_modules/koa/')), 'koa, which the Koa instrumentation patches').to.equal(true);
    expect(wrapped, 'node:http, which the HTTP instrumentation patches').to.include('node:http?iitm=true');
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
