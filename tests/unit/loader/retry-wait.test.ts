import { expect } from 'chai';
import { retryWaitMs } from '../../../service/src/loader/load.js';

/** How long `records load` waits before sending a failed chunk again. */
describe('records load retry waits', function () {
  it('double from the first wait up to a minute, and no further (the fifteenth waited over two hours)', function () {
    expect([1, 2, 3, 4, 5, 6, 7].map((attempt) => retryWaitMs(attempt, null))).to.deep.equal([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000]);
    expect(retryWaitMs(15, null)).to.equal(60_000);
    // Past 2^31 ms a timer fires at once: the retries became a tight loop.
    expect(retryWaitMs(40, null)).to.equal(60_000);
  });

  it('are never shorter than a Retry-After the service gave', function () {
    expect(retryWaitMs(1, 5000)).to.equal(5000);
    expect(retryWaitMs(10, 600_000)).to.equal(600_000);
    expect(retryWaitMs(6, 1000)).to.equal(32_000);
  });
});
