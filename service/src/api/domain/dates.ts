import { DateTime } from 'luxon';

/**
 * Strict parsing of the date formats found in real input. Every accepted shape is listed here
 * explicitly; anything else is rejected with a reason instead of being guessed at.
 * A time without a zone is UTC.
 */

export type DateParse = { ok: true; ms: number } | { ok: false; reason: string };

const MAX_DATE_LENGTH = 64;
/** The range every supported database stores and every client can print as ISO 8601. */
const MIN_YEAR = 1000;
const MAX_YEAR = 9999;

const UTC = { zone: 'utc', setZone: true } as const;

// YYYY-MM-DD, optionally followed by T (or a space) and HH, HH:mm, HH:mm:ss(.fff), and a zone.
const ISO_SHAPE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|([+-])(\d{2})(?::?(\d{2}))?)?)?$/i;
// Full datetime (a time with at least minutes) for query bounds, or a plain date.
const ISO_QUERY_SHAPE =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

// A month name (English, full or three letters, any case) before or after the day, then a four-digit year.
const NAMED_SHAPE = /^(?:([a-z]+) (\d{1,2}),? (\d{4})|(\d{1,2}) ([a-z]+) (\d{4}))$/i;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const NAMED_WITHOUT_YEAR = /^(?:[a-z]+ \d{1,2}|\d{1,2} [a-z]+)$/i;
const NUMERIC_DAY_MONTH = /^\d{1,2}[/.-]\d{1,2}[/.-]\d{1,4}$/;
/** RFC 850's `06-Nov-94` and RFC 2822's `1 Nov 16`: luxon would guess the century (16 as 2016, 61 as 1961). */
const TWO_DIGIT_YEAR = /\d{1,2}([- ])[a-z]{3}\1\d{2}\s/i;
const LUXON_RANGE_EXPLANATION = /you specified (\S+) .* as an? (\w+)/;

/** One wording for every impossible field, whichever parser found it. */
function outOfRange(unit: string, value: number | string): DateParse {
  return { ok: false, reason: `impossible date: ${unit} ${value} is out of range` };
}

/**
 * The instant, or the year error: every accepted date ends here, whichever parser read it. The year
 * is checked as written and in UTC, where it is stored and served: 9999-12-31T23:00-05:00 is in
 * the year 10000 there, which ISO 8601 prints as +010000.
 */
function withinYears(localYear: number, ms: number): DateParse {
  const outside = (year: number) => year < MIN_YEAR || year > MAX_YEAR;
  if (outside(localYear) || outside(new Date(ms).getUTCFullYear())) return { ok: false, reason: `year must be between ${MIN_YEAR} and ${MAX_YEAR}` };
  return { ok: true, ms };
}

function fromLuxon(value: DateTime): DateParse {
  if (value.isValid) return withinYears(value.year, value.toMillis());
  const range = LUXON_RANGE_EXPLANATION.exec(value.invalidExplanation ?? '');
  if (range) return outOfRange(range[2] as string, range[1] as string);
  if (value.invalidReason === 'mismatched weekday') return { ok: false, reason: 'impossible date: the weekday does not match the date' };
  return { ok: false, reason: 'unrecognised date format' };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant of a validated local date and time; 24:00 on 31 December belongs to the next year. */
function instant(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0, offsetMinutes = 0): DateParse {
  const localYear = hour === 24 && month === 12 && day === 31 ? year + 1 : year;
  return withinYears(localYear, Date.UTC(year, month - 1, day, hour, minute, second, millisecond) - offsetMinutes * 60_000);
}

/**
 * ISO 8601 as ISO_SHAPE admits it, by hand for the same reason as named dates (luxon's fromISO was
 * the largest cost left in a bulk request). Same rules as luxon: checks in the order month, day,
 * hour (24:00 is the next midnight), minute, second; fractions truncated to milliseconds; a zone
 * offset of any size; the year checked as written. The date test compares it with luxon.
 */
function parseIsoDate(match: RegExpExecArray, fractions: 'truncate' | 'round up' = 'truncate'): DateParse {
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fraction, zone, sign, offsetHours, offsetMinutes] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  if (month < 1 || month > 12) return outOfRange('month', month);
  if (day < 1 || day > daysIn(month, year)) return outOfRange('day', day);
  const hour = Number(hourText ?? 0);
  const minute = Number(minuteText ?? 0);
  const second = Number(secondText ?? 0);
  const millisecond = fraction === undefined ? 0 : fractions === 'truncate' ? Math.floor(parseFloat(`0.${fraction}`) * 1000) : millisecondsUp(fraction);
  if (hour > 24 || (hour === 24 && minute + second + millisecond > 0)) return outOfRange('hour', hour);
  if (minute > 59) return outOfRange('minute', minute);
  if (second > 59) return outOfRange('second', second);
  const offset = zone === undefined || sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes ?? 0));
  return instant(year, month, day, hour, minute, second, millisecond, offset);
}

/**
 * "March 30 1985", "Mar 30, 1985", "30 March 1985". Written by hand rather than with luxon's
 * fromFormat, which compiles its format on every call: that was a third of a bulk request's CPU.
 * The date test checks this against luxon's formats on every shape it accepts or rejects.
 */
function parseNamedDate(match: RegExpExecArray): DateParse {
  const [name, dayText, yearText] = match[1] !== undefined ? [match[1], match[2], match[3]] : [match[5], match[4], match[6]];
  const lower = (name ?? '').toLowerCase();
  const month = MONTHS.findIndex((full) => full === lower || full.slice(0, 3) === lower) + 1;
  if (month === 0) return { ok: false, reason: 'unrecognised month name' };
  const day = Number(dayText);
  const year = Number(yearText);
  if (day < 1 || day > daysIn(month, year)) return outOfRange('day', day);
  return instant(year, month, day);
}

/** Parses a record's `date` field in any of the accepted input formats. */
export function parseRecordDate(raw: string): DateParse {
  if (raw.length > MAX_DATE_LENGTH) return { ok: false, reason: `date is longer than ${MAX_DATE_LENGTH} characters` };
  const input = raw.trim();
  if (input === '') return { ok: false, reason: 'date is empty' };

  const iso = ISO_SHAPE.exec(input);
  if (iso) return parseIsoDate(iso);
  if (NUMERIC_DAY_MONTH.test(input)) {
    return { ok: false, reason: 'ambiguous numeric date: day and month order cannot be told apart; use YYYY-MM-DD' };
  }
  const named = NAMED_SHAPE.exec(input);
  if (named) return parseNamedDate(named);
  if (TWO_DIGIT_YEAR.test(input)) {
    return { ok: false, reason: 'two-digit year is ambiguous; use a four-digit year' };
  }
  const rfc2822 = DateTime.fromRFC2822(input, UTC);
  if (rfc2822.isValid || rfc2822.invalidReason !== 'unparsable') return fromLuxon(rfc2822);
  const http = DateTime.fromHTTP(input, UTC);
  if (http.isValid || http.invalidReason !== 'unparsable') return fromLuxon(http);

  if (NAMED_WITHOUT_YEAR.test(input)) return { ok: false, reason: 'date has no year' };
  return { ok: false, reason: 'unrecognised date format' };
}

/** A fraction of a second in whole milliseconds, rounded up (by its digits: float arithmetic would round 0.007 s up to 8 ms). */
function millisecondsUp(fraction: string): number {
  const whole = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return /[1-9]/.test(fraction.slice(3)) ? whole + 1 : whole;
}

/**
 * Parses a search bound (`after`, `before`): `YYYY-MM-DD` (midnight UTC) or a full ISO 8601
 * datetime; a datetime without a zone is UTC; a fraction past milliseconds rounds up.
 */
export function parseQueryInstant(raw: string): DateParse {
  // Every shape admitted here is one ISO_SHAPE admits, so the record parser applies as is.
  const iso = ISO_QUERY_SHAPE.test(raw) ? ISO_SHAPE.exec(raw) : null;
  if (iso === null) {
    return { ok: false, reason: 'must be YYYY-MM-DD or an ISO 8601 datetime such as 2020-01-01T00:00:00Z' };
  }
  // Stored dates are whole milliseconds: a bound between two is the later one. Truncated, after=.0005
  // took in a record at .000 and before=.0005 left it out (and after .0001 < before .0009 was refused).
  const bound = parseIsoDate(iso, 'round up');
  // Rounded up past 9999-12-31T23:59:59.999 (a "no upper bound" some clients send): that instant.
  return bound.ok ? bound : parseIsoDate(iso);
}
