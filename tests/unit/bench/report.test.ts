import { expect } from 'chai';
import { judgeRounds, metText, SCENARIOS, tail } from '../../../tooling/bench/report.js';

const figure = (rps: number, p99 = 1) => ({ rps, p50: 1, p99 });

describe('make bench report (tooling/bench/report.ts)', function () {
  it("takes the median of each round's ratio, not the ratio of medians", function () {
    const row = judgeRounds(SCENARIOS.byId, { service: [figure(100), figure(50), figure(60)], baseline: [figure(50), figure(100), figure(110)] });
    // Per round: 2, 0.5, 0.545...; the ratio of the medians would be 60 / 100 = 0.6.
    expect(row.ratio).to.be.closeTo(60 / 110, 1e-9);
    expect(row.met).to.equal(false);
    expect(row.service.rps).to.equal(60);
  });

  it('never reports a reference row as met', function () {
    const row = judgeRounds(SCENARIOS.duringLoadInline, { service: [figure(10, 100)], baseline: [figure(10, 1)] });
    expect(row.met).to.equal(null);
    expect(metText(row.met)).to.equal('(reference)');
    expect(metText(true)).to.equal('yes');
    expect(metText(false)).to.equal('no');
  });

  it('names the slowest sample, not a p99, below 100 samples', function () {
    expect(tail({ rps: 1, p50: 1, p99: 7, samples: 60 })).to.equal('slowest of 60 7.0 ms');
    expect(tail({ rps: 1, p50: 1, p99: 7, samples: 500 })).to.equal('p99 7.0 ms');
    expect(tail({ rps: 1, p50: 1, p99: 7 })).to.equal('p99 7.0 ms');
  });
});
