import { expect } from 'chai';
import { DateTime } from 'luxon';
import { parseQueryInstant, parseRecordDate } from '../../../../service/src/api/domain/dates.js';

/**
 * What the service answered when luxon parsed dates: the reference for the hand-written parsers,
 * with the one rule added since: the instant's year in UTC is within range too.
 */
function luxonAnswer(parsed: DateTime): string {
  const outOfRange = (year: number) => year < 1000 || year > 9999;
  if (parsed.isValid) {
    const instant = new Date(parsed.toMillis());
    return outOfRange(parsed.year) || outOfRange(instant.getUTCFullYear()) ? 'year must be between 1000 and 9999' : instant.toISOString();
  }
  const [, value, unit] = /you specified (\S+) .* as an? (\w+)/.exec(parsed.invalidExplanation ?? '') ?? [];
  return unit ? `impossible date: ${unit} ${value} is out of range` : 'unrecognised date format';
}

function luxonNamed(input: string): string {
  const formats = ['MMMM d yyyy', 'MMMM d, yyyy', 'MMM d yyyy', 'MMM d, yyyy', 'd MMMM yyyy', 'd MMM yyyy'];
  for (const format of formats) {
    const parsed = DateTime.fromFormat(input, format, { zone: 'utc', locale: 'en-US' });
    if (parsed.isValid || parsed.invalidReason !== 'unparsable') return luxonAnswer(parsed);
  }
  return 'unrecognised month name';
}

function luxonIso(input: string): string {
  return luxonAnswer(DateTime.fromISO(input.replace(' ', 'T').replace(',', '.'), { zone: 'utc', setZone: true }));
}

const answer = (input: string) => {
  const parsed = parseRecordDate(input);
  return parsed.ok ? new Date(parsed.ms).toISOString() : parsed.reason;
};

describe('date parsing', function () {
  const iso = (raw: string) => {
    const parsed = parseRecordDate(raw);
    return parsed.ok ? new Date(parsed.ms).toISOString() : parsed.reason;
  };

  it('reads a time without a zone as UTC, whatever the process time zone', function () {
    expect(iso('2014-03-08T15')).to.equal('2014-03-08T15:00:00.000Z');
    expect(iso('2014-03-08 15:30')).to.equal('2014-03-08T15:30:00.000Z');
  });

  it('accepts month names in any case and with a comma', function () {
    expect(iso('march 30 1985')).to.equal('1985-03-30T00:00:00.000Z');
    expect(iso('Mar 3, 2020')).to.equal('2020-03-03T00:00:00.000Z');
    expect(iso('3 September 2020')).to.equal('2020-09-03T00:00:00.000Z');
  });

  it('reads month names exactly as the luxon formats did, over every month, day and shape', function () {
    const names = ['January', 'february', 'MARCH', 'Apr', 'may', 'JUN', 'July', 'aug', 'Sept', 'Sep', 'october', 'Nov', 'Dec', 'Mayo', 'Ja', 'Decembers'];
    const days = ['0', '1', '09', '28', '29', '30', '31', '32', '99'];
    const years = ['0999', '1000', '1900', '2000', '2023', '2024', '9999'];
    let compared = 0;
    // The reference: the luxon formats this parser replaced.
    for (const name of names) {
      for (const day of days) {
        for (const year of years) {
          for (const input of [`${name} ${day} ${year}`, `${name} ${day}, ${year}`, `${day} ${name} ${year}`]) {
            expect(answer(input), input).to.equal(luxonNamed(input));
            compared += 1;
          }
        }
      }
    }
    expect(compared).to.equal(names.length * days.length * years.length * 3);
  });

  it('reads ISO 8601 exactly as luxon did, over edge dates, times and zones', function () {
    const dates = ['0999-12-31', '1000-01-01', '1900-02-29', '2000-02-29', '2023-02-29', '2024-04-31', '2024-00-10', '2024-13-01', '2024-12-00', '9999-12-31'];
    const times = ['', 'T10', ' 10', 't07:05', 'T24', 'T24:00', 'T24:00:00', 'T24:00:00.000', 'T24:00:00.5', 'T24:01', 'T25:00', 'T23:60', 'T23:59:60', 'T23:59:59,999999', 'T10:30:00.123456789', 'T10:30:00.29', 'T00:00:00.001'];
    const zones = ['', 'Z', 'z', '+05', '-0530', '+05:30', '+25:00', '-00:00', '+05:99'];
    let compared = 0;
    for (const date of dates) {
      for (const time of times) {
        for (const zone of time === '' ? [''] : zones) {
          const input = `${date}${time}${zone}`;
          expect(answer(input), input).to.equal(luxonIso(input));
          compared += 1;
        }
      }
    }
    expect(compared).to.equal(dates.length * (1 + (times.length - 1) * zones.length));
  });

  it('accepts the three HTTP date forms that carry a four-digit year', function () {
    expect(iso('Sun Nov  6 08:49:37 1994')).to.equal('1994-11-06T08:49:37.000Z');
  });

  it('never guesses', function () {
    expect(iso('May 23')).to.equal('date has no year');
    expect(iso('23 May')).to.equal('date has no year');
    expect(iso('February 30 2021')).to.equal('impossible date: day 30 is out of range');
    expect(iso('2021-13-01')).to.equal('impossible date: month 13 is out of range');
    expect(iso('12.05.2019')).to.match(/^ambiguous numeric date/);
    expect(iso('2014')).to.equal('unrecognised date format');
    expect(iso('Wed, 01 Nov 2016 13:23:12 +0630')).to.equal('impossible date: the weekday does not match the date');
    expect(iso('0999-12-31')).to.equal('year must be between 1000 and 9999');
    // Within range as written, not in UTC: stored, it would be served as +010000-... or 0999-...
    expect(iso('9999-12-31T23:00:00-05:00')).to.equal('year must be between 1000 and 9999');
    expect(iso('Fri, 31 Dec 9999 23:00:00 -0500')).to.equal('year must be between 1000 and 9999');
    expect(iso('1000-01-01T00:00+01:00')).to.equal('year must be between 1000 and 9999');
    expect(iso('9999-12-31T23:00:00+05:00')).to.equal('9999-12-31T18:00:00.000Z');
    expect(parseQueryInstant('9999-12-31T23:00:00-05:00').ok).to.equal(false);
    expect(iso('x'.repeat(65))).to.equal('date is longer than 64 characters');
  });

  it('bounds queries only by a date or a full datetime', function () {
    expect(parseQueryInstant('2020-01-01')).to.deep.equal({ ok: true, ms: Date.UTC(2020, 0, 1) });
    expect(parseQueryInstant('2020-01-01T10:00')).to.deep.equal({ ok: true, ms: Date.UTC(2020, 0, 1, 10) });
    expect(parseQueryInstant('2020-01-01T10').ok).to.equal(false);
    expect(parseQueryInstant('March 30 1985').ok).to.equal(false);
  });

  it('rounds a bound\'s fraction past milliseconds up: stored dates are whole milliseconds, so after=.0005 must not take in .000, nor before=.0005 leave it out', function () {
    const at = (raw: string) => {
      const parsed = parseQueryInstant(raw);
      return parsed.ok ? new Date(parsed.ms).toISOString() : parsed.reason;
    };
    expect(at('2020-01-01T00:00:00.0005Z')).to.equal('2020-01-01T00:00:00.001Z');
    expect(at('2020-01-01T00:00:00.0001Z')).to.equal(at('2020-01-01T00:00:00.0009Z'));
    expect(at('2020-01-01T00:00:00.007Z'), 'by its digits: 0.007 * 1000 is 7.000000000000001').to.equal('2020-01-01T00:00:00.007Z');
    expect(at('2020-01-01T00:00:00.0070Z')).to.equal('2020-01-01T00:00:00.007Z');
    expect(at('2020-01-01T23:59:59.9999Z')).to.equal('2020-01-02T00:00:00.000Z');
    // The last instant a date can name, as clients send it for "no upper bound": still a bound.
    expect(at('9999-12-31T23:59:59.9999999Z')).to.equal('9999-12-31T23:59:59.999Z');
    // Records keep luxon's truncation: what was stored does not move.
    const record = parseRecordDate('2020-01-01T00:00:00.0005Z');
    expect(record.ok && new Date(record.ms).toISOString()).to.equal('2020-01-01T00:00:00.000Z');
  });

  it('reads query bounds exactly as luxon did', function () {
    const inputs = ['2020-02-29', '2021-02-29', '2020-01-01T24:00', '2020-01-01T23:59:60Z', '2020-01-01T10:00:00.5+05:30', '2020-01-01T10:00-0800', '0999-12-31T24:00Z'];
    for (const input of inputs) {
      const parsed = parseQueryInstant(input);
      expect(parsed.ok ? new Date(parsed.ms).toISOString() : parsed.reason, input).to.equal(luxonAnswer(DateTime.fromISO(input, { zone: 'utc', setZone: true })));
    }
  });
});
