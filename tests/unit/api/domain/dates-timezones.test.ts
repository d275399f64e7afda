import { spawnSync } from 'node:child_process';
import { expect } from 'chai';

/** The same inputs, parsed by processes in different time zones: the answers must not move. */
const INPUTS = [
  '2020-01-01',
  '2020-03-08T02:30',
  '2020-10-25 01:30',
  '2021-03-28T01:30:00',
  '2014-03-08T15',
  '2020-01-01T10:00-0800',
  '2020-01-01T24:00',
  'March 30 1985',
  '06 Oct 1980',
  'Sun, 06 Nov 1994 08:49:37 GMT',
  'May 23',
  '',
];
const ZONES = ['UTC', 'America/Los_Angeles', 'Asia/Kolkata', 'Pacific/Chatham'];

function parsedIn(zone: string): string[] {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'tests/support/parse-dates.ts', ...INPUTS], {
    encoding: 'utf8',
    env: { ...process.env, TZ: zone },
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim().split('\n');
}

describe('date parsing in every process time zone', function () {
  this.timeout(60_000);

  it(`gives the same answers under ${ZONES.join(', ')}`, function () {
    const [reference, ...others] = ZONES.map((zone) => ({ zone, lines: parsedIn(zone) }));
    expect(reference!.lines).to.have.length(INPUTS.length);
    // A datetime without a zone is UTC: the zone of the process never enters.
    expect(JSON.parse(reference!.lines[1] as string).record).to.deep.equal({ ok: true, ms: Date.UTC(2020, 2, 8, 2, 30) });
    for (const { zone, lines } of others) expect(lines, zone).to.deep.equal(reference!.lines);
  });
});
