import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REQUEST_LINES_BATCH, requestLineWriter, type RequestLine } from '../../../service/src/shared/logger.js';

/** A pino logger configured as createLogger's, writing to memory (one entry per line written). */
function capturingLogger(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level, base: { service: 'records' } }, stream), lines };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the longest a line waits in its batch. */
const settle = () => sleep(REQUEST_LINES_BATCH.ms + 30);

const LINES: RequestLine[] = [
  { requestId: '4b1c2f6e-0d0a-4c1e-9a55-3f1e8e2b7c10', method: 'GET', route: '/v1/:id', status: 200, durationMs: 1.23 },
  { requestId: 'kong.abc:1', method: 'POST', route: '/v1/bulk', status: 413, durationMs: 0, subject: 'svc "quoted"\nline', issuer: 'https://issuer.example/ünïcode\u2028', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331' },
  { requestId: 'x', method: 'DELETE', route: 'unmatched', status: 405, durationMs: 12345.67, subject: undefined, issuer: undefined },
];

describe('the request line', () => {
  it('is the line pino itself writes for the same fields (parsed, apart from the time)', async () => {
    for (const fields of LINES) {
      const ours = capturingLogger();
      const theirs = capturingLogger();
      requestLineWriter(ours.logger)(fields);
      theirs.logger.info(fields, 'request');
      await settle();
      expect(ours.lines).to.have.length(1);
      expect(ours.lines[0]?.endsWith('\n')).to.equal(true);
      const [mine, pinos] = [JSON.parse(ours.lines[0] as string), JSON.parse(theirs.lines[0] as string)];
      expect(mine.time).to.be.a('number').within(Date.now() - 5000, Date.now());
      expect({ ...mine, time: 0 }).to.deep.equal({ ...pinos, time: 0 });
      // The same order of keys, so lines read alike in a log viewer.
      expect(Object.keys(mine)).to.deep.equal(Object.keys(pinos));
    }
  });

  it("carries a child logger's bindings, as pino's lines do", async () => {
    const ours = capturingLogger();
    requestLineWriter(ours.logger.child({ component: 'api' }))(LINES[0] as RequestLine);
    await settle();
    expect(JSON.parse(ours.lines[0] as string)).to.include({ service: 'records', component: 'api', msg: 'request', level: 30 });
  });

  it('writes nothing when info is not enabled', async () => {
    const ours = capturingLogger('warn');
    requestLineWriter(ours.logger)(LINES[0] as RequestLine);
    await settle();
    expect(ours.lines).to.deep.equal([]);
  });

  it('gathers the lines of a moment into one write, made at most REQUEST_LINES_BATCH.ms after the first', async () => {
    const ours = capturingLogger();
    const write = requestLineWriter(ours.logger);
    const first = Date.now();
    for (const fields of LINES) write(fields);
    await sleep(5);
    expect(ours.lines, 'nothing written yet').to.deep.equal([]);
    while (ours.lines.length === 0 && Date.now() - first < 2000) await sleep(2);
    // Timers fire no earlier than asked and, on a busy machine, somewhat later.
    expect(Date.now() - first).to.be.at.least(REQUEST_LINES_BATCH.ms - 1);
    expect(ours.lines).to.have.length(1);
    const written = (ours.lines[0] as string).split('\n');
    expect(written.pop()).to.equal('');
    expect(written.map((line) => JSON.parse(line).requestId)).to.deep.equal(LINES.map((line) => line.requestId));
    await settle();
    expect(ours.lines, 'one write for the batch').to.have.length(1);
  });

  it('writes a batch at once when REQUEST_LINES_BATCH.chars are waiting, and starts the next', async () => {
    const ours = capturingLogger();
    const write = requestLineWriter(ours.logger);
    let written = 0;
    while (ours.lines.length === 0 && written < 10_000) {
      write({ ...(LINES[0] as RequestLine), requestId: `r${written}` });
      written += 1;
    }
    expect(ours.lines, 'the full batch, without waiting').to.have.length(1);
    const batch = ours.lines[0] as string;
    expect(batch.length).to.be.at.least(REQUEST_LINES_BATCH.chars);
    // Below the limit before its last line (that line and its newline included here).
    expect(batch.length - (batch.split('\n').at(-2)?.length ?? 0)).to.be.at.most(REQUEST_LINES_BATCH.chars);
    expect(batch.split('\n')).to.have.length(written + 1);
    write({ ...(LINES[0] as RequestLine), requestId: 'after' });
    await settle();
    expect(ours.lines).to.have.length(2);
    expect(JSON.parse(ours.lines[1] as string).requestId).to.equal('after');
  });

  for (const ending of ['process.exit(0)', 'the event loop emptying']) {
    it(`writes the lines still waiting when the process ends by ${ending}`, () => {
      const program = [
        "import { createLogger, requestLineWriter } from './service/src/shared/logger.ts';",
        "const logger = createLogger({ logLevel: 'info' });",
        "logger.info('before');",
        'const write = requestLineWriter(logger);',
        "for (let n = 0; n < 3; n += 1) write({ requestId: 'waiting-' + n, method: 'GET', route: '/v1/:id', status: 200, durationMs: 1 });",
        ending === 'process.exit(0)' ? 'process.exit(0);' : '',
      ].join('\n');
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).to.equal(0);
      const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; requestId?: string });
      // Every line, the request lines in their order; pino's line may come before or after them
      // (its write can still be under way at exit), which its time tells.
      expect(lines.map((line) => line.requestId ?? line.msg).sort()).to.deep.equal(['before', 'waiting-0', 'waiting-1', 'waiting-2']);
      expect(lines.filter((line) => line.requestId).map((line) => line.requestId)).to.deep.equal(['waiting-0', 'waiting-1', 'waiting-2']);
    });
  }

  it('writes them at process.exit with LOG_FORMAT=pretty too (pino-pretty on a worker thread, ended by pino at exit)', () => {
    const program = [
      "import { createLogger, requestLineWriter } from './service/src/shared/logger.ts';",
      "const logger = createLogger({ logLevel: 'info', logFormat: 'pretty' });",
      "logger.info('before');",
      // As in development: the transport's worker is up before requests arrive.
      'await new Promise((resolve) => setTimeout(resolve, 500));',
      'const write = requestLineWriter(logger);',
      "for (let n = 0; n < 3; n += 1) write({ requestId: 'waiting-' + n, method: 'GET', route: '/v1/:id', status: 200, durationMs: 1 });",
      'process.exit(0);',
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('before');
    const order = ['waiting-0', 'waiting-1', 'waiting-2'].map((id) => run.stdout.indexOf(id));
    expect(order.every((at) => at >= 0), run.stdout).to.equal(true);
    expect([...order].sort((a, b) => a - b)).to.deep.equal(order);
  });
});
