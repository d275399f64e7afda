import { expect } from 'chai';
import { createLineSplitter, type IngestLine } from '../../../../service/src/api/domain/ndjson-lines.js';

/**
 * The NDJSON splitter reads most lines where they lie in the chunk that holds them and copies only
 * a line's start that a chunk boundary cuts; wherever the boundaries fall, the lines are the same.
 */
function linesOf(chunks: Uint8Array[], maxLineBytes = 50): IngestLine[] {
  const splitter = createLineSplitter(maxLineBytes);
  return [...chunks.flatMap((chunk) => splitter.push(chunk)), ...splitter.end()];
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
  it('reads the body whole as the expected lines', function () {
    expect(linesOf([BODY])).to.deep.equal([
      { line: 1, item: { title: 'Ünïcödé 😀', date: '2020-01-01' } },
      { line: 5, problem: 'line is longer than 50 bytes' },
      { line: 6, problem: 'line is not valid UTF-8' },
      { line: 7, problem: 'malformed JSON' },
      { line: 8, item: [1, 2] },
      { line: 9, item: { last: true } },
    ]);
  });

  it('keeps its own copy of a line a chunk cut, not a view of the chunk (the reader may reuse or free it)', function () {
    const splitter = createLineSplitter(50);
    const chunk = Buffer.from('{"a": 1');
    expect(splitter.push(chunk)).to.deep.equal([]);
    chunk.fill(0x20);
    expect(splitter.push(Buffer.from('}\n'))).to.deep.equal([{ line: 1, item: { a: 1 } }]);
  });

  it('reads the same lines wherever one or two chunk boundaries fall', function () {
    const whole = linesOf([BODY]);
    for (let first = 0; first <= BODY.length; first += 1) {
      expect(linesOf([BODY.subarray(0, first), BODY.subarray(first)]), `split at ${first}`).to.deep.equal(whole);
      for (let second = first; second <= BODY.length; second += 7) {
        const chunks = [BODY.subarray(0, first), BODY.subarray(first, second), BODY.subarray(second)];
        expect(linesOf(chunks), `split at ${first} and ${second}`).to.deep.equal(whole);
      }
    }
  });
});
