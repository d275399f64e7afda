import { decodeCursor, type Position } from '../domain/cursor.js';
import { parseQueryInstant } from '../domain/dates.js';
import { InvalidInput, type FieldError } from '../domain/errors.js';
import { TITLE_MAX_LENGTH, URI_MAX_LENGTH } from '../domain/record.js';
import { DEFAULT_LIMIT, filtersKey, MAX_LIMIT, type SearchQuery } from '../domain/search-query.js';
import { foldText, foldUri } from '../domain/text.js';

/** The query string of GET /v1/ and the path of GET /v1/{id}, read into the domain's terms. */

const MAX_CURSOR_LENGTH = 200;
const PARAMETERS = ['after', 'before', 'contains', 'uri', 'limit', 'cursor'] as const;
const ID_PATTERN = /^[1-9]\d{0,15}$/;

type RawQuery = Record<string, string | string[] | undefined>;

export function parseRecordId(text: string): number {
  const id = Number(text);
  if (!ID_PATTERN.test(text) || !Number.isSafeInteger(id)) {
    throw new InvalidInput('The record id is not valid.', [{ parameter: 'id', detail: `must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}` }]);
  }
  return id;
}

/**
 * Names of parameters whose value in the raw query string is not percent-encoded UTF-8. The
 * parsed query holds U+FFFD in their place, which would be searched for as if sent.
 */
function malformedIn(querystring: string): Set<string> {
  const malformed = new Set<string>();
  for (const pair of querystring.split('&')) {
    const equals = pair.indexOf('=');
    const [name, value] = equals < 0 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    // A % not followed by two hex digits is taken as itself by the parser, as by browsers.
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, ' ').replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
    try {
      decode(value);
    } catch {
      let key = name;
      try {
        key = decode(name);
      } catch {
        // A malformed name is an unknown parameter anyway.
      }
      malformed.add(key);
    }
  }
  return malformed;
}

/** `querystring`: the raw query string, to tell a malformed value from one that is U+FFFD. */
export function parseSearchQuery(raw: RawQuery, querystring = ''): SearchQuery {
  const errors: FieldError[] = [];
  const malformed = malformedIn(querystring);
  const fail = (parameter: string, detail: string) => {
    errors.push({ parameter, detail });
    return null;
  };

  for (const name of Object.keys(raw)) {
    if (!(PARAMETERS as readonly string[]).includes(name)) fail(name, 'unknown parameter');
    else if (Array.isArray(raw[name])) fail(name, 'must be given at most once');
  }
  const text = (name: string): string | null => {
    const value = raw[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };

  const instant = (name: 'after' | 'before') => {
    const value = text(name);
    if (value === null) return null;
    const parsed = parseQueryInstant(value);
    return parsed.ok ? parsed.ms : fail(name, parsed.reason);
  };
  const after = instant('after');
  const before = instant('before');
  if (after !== null && before !== null && after >= before) fail('after', 'must be earlier than before');

  const term = (name: 'contains' | 'uri', maxLength: number, fold: (s: string) => string) => {
    const value = text(name);
    if (value === null) return null;
    if (!value.isWellFormed() || malformed.has(name)) return fail(name, 'must be valid Unicode (percent-encoded UTF-8)');
    if ([...value].length > maxLength) return fail(name, `must be at most ${maxLength} characters`);
    const folded = fold(value);
    // A term that folds to nothing (only combining marks) constrains nothing.
    return folded === '' ? null : folded;
  };
  const contains = term('contains', TITLE_MAX_LENGTH, foldText);
  const uri = term('uri', URI_MAX_LENGTH, foldUri);

  let limit = DEFAULT_LIMIT;
  const limitText = text('limit');
  if (limitText !== null) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      fail('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
    } else {
      limit = Number(limitText);
    }
  }

  let cursor: Position | null = null;
  const cursorText = text('cursor');
  if (cursorText !== null && errors.length === 0) {
    cursor =
      cursorText.length <= MAX_CURSOR_LENGTH ? decodeCursor(cursorText, filtersKey({ after, before, contains, uri })) : null;
    if (cursor === null) fail('cursor', 'is not a cursor issued for this query');
  }

  if (errors.length > 0) throw new InvalidInput('The query parameters are not valid.', errors);
  return { after, before, contains, uri, limit, cursor };
}
