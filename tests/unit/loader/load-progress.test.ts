import { expect } from 'chai';
import { createProgress } from '../../../service/src/loader/progress.js';

/** What `records load` shows: a redrawn bar on a terminal, plain periodic lines elsewhere. */
describe('records load progress', function () {
  const summary = (records: number, rejected = 0, skipped = 0) => ({ records, skipped, stored: records - rejected, rejected, chunks: records / 100, replayed: skipped / 100 });

  it('draws one bar in place on a terminal: share done, counts, rate and time left', function () {
    const written: string[] = [];
    let now = 0;
    const progress = createProgress({ output: { isTTY: true, columns: 200, write: (text: string) => written.push(text) }, total: 1000, now: () => now });
    now = 2000;
    progress.update(summary(400, 10));
    expect(written.at(-1)).to.equal('\r\x1b[2K[##########..............]  40% sent 400/1000 records, stored 390, rejected 10, 200 records/s, ETA 3s');
    progress.note('records 401-500: HTTP 503: unavailable; retrying');
    expect(written.at(-1), 'a note clears the bar and keeps its own line').to.equal('\r\x1b[2Krecords 401-500: HTTP 503: unavailable; retrying\n');
    now = 5000;
    progress.done(summary(1000, 10));
    expect(written.slice(-2)).to.deep.equal(['\r\x1b[2K[########################] 100% sent 1000/1000 records, stored 990, rejected 10, 200 records/s, ETA 0s', '\n']);
  });

  it('times a resumed load by the records it sends, not those an earlier run had sent (it counted them as sent at once)', function () {
    const written: string[] = [];
    let now = 0;
    const progress = createProgress({ output: { write: (text: string) => written.push(text) }, total: 1000, now: () => now });
    now = 2000;
    progress.update(summary(800, 0, 600));
    expect(written.at(-1)).to.equal('sent 800/1000 records (600 by an earlier run), stored 800, rejected 0, 100 records/s, ETA 2s\n');
  });

  it('prints a plain line at most every interval elsewhere, and always at the end', function () {
    const written: string[] = [];
    let now = 0;
    const progress = createProgress({ output: { write: (text: string) => written.push(text) }, total: null, intervalMs: 5000, now: () => now });
    now = 1000;
    progress.update(summary(100));
    now = 3000;
    progress.update(summary(300));
    now = 7000;
    progress.update(summary(700));
    progress.done(summary(800));
    expect(written).to.deep.equal([
      'sent 100 records, stored 100, rejected 0, 100 records/s, ETA ?\n',
      'sent 700 records, stored 700, rejected 0, 100 records/s, ETA ?\n',
      'sent 800 records, stored 800, rejected 0, 114 records/s, ETA ?\n',
    ]);
  });
});
