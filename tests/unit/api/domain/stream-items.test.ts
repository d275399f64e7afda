import { expect } from 'chai';
import { createStreamItems, MAX_REPORTED_REJECTIONS } from '../../../../service/src/api/domain/stream-items.js';

/** Reading an NDJSON stream into batches (domain/stream-items.ts), as a worker or the event loop does. */

const line = (title: string, date = '2020-01-02') => `${JSON.stringify({ title, date })}\n`;
const titlesOf = (batches: Array<Array<{ title: string | null }>>) => batches.map((batch) => batch.map((record) => record.title));

describe('the records of an NDJSON stream, in batches', function () {
  it('hands over each batch once full and the last one at the end, rejections with their line numbers', function () {
    const items = createStreamItems({ maxLineBytes: 1_024, batchSize: 2, atomic: false });
    const first = items.push(Buffer.from(`${line('a')}${line('b', 'May 23')}${line('c')}${line('d')}{"ti`));
    expect(titlesOf(first.batches)).to.deep.equal([['a', 'c']]);
    expect(first.rejected).to.deep.equal([{ line: 2, field: 'date', message: 'date has no year' }]);
    const second = items.push(Buffer.from(`tle": "e", "date": "2020-01-02"}\n\n${line('f')}`));
    expect(titlesOf(second.batches)).to.deep.equal([['d', 'e']]);
    const end = items.end();
    expect(titlesOf(end.batches)).to.deep.equal([['f']]);
    expect([second.rejectedCount, end.rejectedCount]).to.deep.equal([0, 0]);
  });

  it(`reports the first ${MAX_REPORTED_REJECTIONS} rejections of the stream and counts the rest`, function () {
    const items = createStreamItems({ maxLineBytes: 1_024, batchSize: 10, atomic: false });
    const steps = [items.push(Buffer.from('nope\n'.repeat(60))), items.push(Buffer.from('nope\n'.repeat(60))), items.end()];
    expect(steps.map((step) => step.rejectedCount)).to.deep.equal([60, 60, 0]);
    expect(steps.map((step) => step.rejected.length)).to.deep.equal([60, MAX_REPORTED_REJECTIONS - 60, 0]);
    expect(steps[1]!.rejected.at(-1)).to.deep.equal({ line: MAX_REPORTED_REJECTIONS, field: 'line', message: 'malformed JSON' });
  });

  it('with atomic, drops every record once a line is rejected, and keeps counting rejections', function () {
    const items = createStreamItems({ maxLineBytes: 1_024, batchSize: 2, atomic: true });
    const first = items.push(Buffer.from(`${line('a')}${line('b')}${line('c')}${line('bad', '')}${line('d')}${line('e')}`));
    expect(titlesOf(first.batches), 'the batch filled before the rejection').to.deep.equal([['a', 'b']]);
    const second = items.push(Buffer.from(`${line('f')}${line('also bad', 'never')}`));
    expect(second.batches).to.deep.equal([]);
    expect(second.rejectedCount).to.equal(1);
    expect(items.end().batches, 'nothing left to store').to.deep.equal([]);
  });
});
