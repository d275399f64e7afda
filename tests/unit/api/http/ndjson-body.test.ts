import { expect } from 'chai';
import type { Context } from 'koa';
import { Readable } from 'node:stream';
import type { IngestLine } from '../../../../service/src/api/domain/stream-ingest.js';
import { ndjsonLines } from '../../../../service/src/api/http/ndjson-body.js';

/**
 * The NDJSON splitter reads most lines where they lie in the chunk that holds them and copies only
 * a line's start that a chunk boundary cuts; wherever the boundaries fall, the lines are the same.
 */
async function linesOf(chunks: Buffer[], maxLineBytes = 50): Promise<IngestLine[]> {
  const ctx = { get: () => '', req: Readable.from(chunks, { objectMode: true }) } as unknown as Context;
  const lines: IngestLine[] = [];
  for await (const arrived of ndjsonLines(ctx, { limit: 1_000_000, maxLineBytes, minBytesPerSecond: 1_000_000 })) lines.push(...arrived);
  return lines;
}

const BODY = Buffer.concat([
  Buffer.from('{"title":"Ünïcödé 😀","date":"2020-01-01"}\n'),
  Buffer.from('\n   \n\u00a0\t\r\n'),
  Buffer.from(`{"title":"${'x'.repeat(60)}"}\n`),
  Buffer.from('{"title":"'),
  Buffer.from([0xc3, 0x28]),
  Buffer.from('"}\n{"broken\n[1,2]\r\n{"last":true}'),
]);

describe('NDJSON lines across chunk boundaries', function () {
  it('reads the body whole as the expected lines', async function () {
    expect(await linesOf([BODY])).to.deep.equal([
      { line: 1, item: { title: 'Ünïcödé 😀', date: '2020-01-01' } },
      { line: 5, problem: 'line is longer than 50 bytes' },
      { line: 6, problem: 'line is not valid UTF-8' },
      { line: 7, problem: 'malformed JSON' },
      { line: 8, item: [1, 2] },
      { line: 9, item: { last: true } },
    ]);
  });

  it('reads the same lines wherever one or two chunk boundaries fall', async function () {
    const whole = await linesOf([BODY]);
    for (let first = 0; first <= BODY.length; first += 1) {
      expect(await linesOf([BODY.subarray(0, first), BODY.subarray(first)]), `split at ${first}`).to.deep.equal(whole);
      for (let second = first; second <= BODY.length; second += 7) {
        const chunks = [BODY.subarray(0, first), BODY.subarray(first, second), BODY.subarray(second)];
        expect(await linesOf(chunks), `split at ${first} and ${second}`).to.deep.equal(whole);
      }
    }
  });
});
