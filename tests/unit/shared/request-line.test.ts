import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { requestLineWriter, type RequestLine } from '../../../service/src/shared/logger.js';

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

const settle = () => new Promise((resolve) => setImmediate(resolve));

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
});
