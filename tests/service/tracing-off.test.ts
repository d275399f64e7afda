import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { statementShape } from '../../service/src/api/observability/statement-shape.js';

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
