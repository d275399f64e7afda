import { parseRecordDate } from './dates.js';
import { InvalidInput, TooManyItems } from './errors.js';
import { pointerTo } from './json-pointer.js';
import { TITLE_MAX_LENGTH, URI_MAX_LENGTH, type NewRecord } from './record.js';

/** Why one item of a bulk request was not stored; `index` counts from 0 in the request. */
export type Rejection = { index: number; field: string; message: string };

export type ValidatedItems = {
  accepted: NewRecord[];
  rejected: Rejection[];
};

const ITEM_FIELDS = new Set(['title', 'uri', 'date']);
/** Unknown top-level fields a problem names at most. */
const MAX_NAMED_FIELDS = 100;
/** Items per JSON request; larger loads belong in an NDJSON stream. */
export const MAX_JSON_ITEMS = 10_000;

/** Documents from this size on are counted before they are parsed; smaller ones parse into little. */
const COUNTED_FROM_BYTES = 256 * 1024;
/** Objects and arrays a document may hold: one per item, and some to spare for items refused one by one. */
const MAX_CONTAINERS = 4 * MAX_JSON_ITEMS + 16;
/** Separators (commas) a document may hold: a few fields per item, and more to spare. */
const MAX_SEPARATORS = 16 * MAX_JSON_ITEMS;

/**
 * Refuses, before JSON.parse, a document that would parse into more values than any request of
 * MAX_JSON_ITEMS items holds. 10 MiB of `{},` parsed into 3.5 million objects: the heap limit ended
 * the process (a fatal error, not an exception) before the item count was ever checked. One pass
 * over the bytes, strings skipped.
 */
function assertFewValues(document: Uint8Array): void {
  if (document.length < COUNTED_FROM_BYTES) return;
  let containers = 0;
  let separators = 0;
  let inString = false;
  for (let at = 0; at < document.length; at += 1) {
    const byte = document[at];
    if (inString) {
      if (byte === 0x5c) at += 1; // an escape: the next byte is not a closing quote
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x7b || byte === 0x5b) containers += 1;
    else if (byte === 0x2c) separators += 1;
    if (containers > MAX_CONTAINERS || separators > MAX_SEPARATORS) {
      throw new TooManyItems(`A JSON request holds at most ${MAX_JSON_ITEMS} items, and at most ${MAX_CONTAINERS} objects and arrays and ${MAX_SEPARATORS} commas in all; send larger loads as application/x-ndjson.`, [
        { pointer: '#', detail: `more values than ${MAX_JSON_ITEMS} items hold` },
      ]);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body must be `{"items": [...]}`; anything else is a malformed request, not a bad item. */
function itemsOf(body: unknown): unknown[] {
  if (!isPlainObject(body)) {
    throw new InvalidInput('The body must be a JSON object with an "items" array.', [
      { pointer: '#', detail: 'must be an object' },
    ]);
  }
  const unknown = Object.keys(body).filter((key) => key !== 'items');
  if (unknown.length > 0 || !Array.isArray(body.items)) {
    // The first of them, named as items' unknown fields are: a body of a million keys made a problem as large.
    throw new InvalidInput('The body must be a JSON object with an "items" array.', [
      ...unknown.slice(0, MAX_NAMED_FIELDS).map((key) => ({ pointer: pointerTo(shortened(key)), detail: 'unknown field' })),
      ...(Array.isArray(body.items) ? [] : [{ pointer: '#/items', detail: 'must be an array' }]),
    ]);
  }
  if (body.items.length > MAX_JSON_ITEMS) {
    throw new TooManyItems(`A JSON request holds at most ${MAX_JSON_ITEMS} items; send larger loads as application/x-ndjson.`, [
      { pointer: '#/items', detail: `at most ${MAX_JSON_ITEMS} items` },
    ]);
  }
  return body.items;
}

function optionalText(item: Record<string, unknown>, field: 'title' | 'uri', maxLength: number): string | null {
  const value = item[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ItemProblem(field, 'must be a string or null');
  if (!value.isWellFormed()) throw new ItemProblem(field, 'must be valid Unicode');
  // Characters are code points; a string has no more of them than UTF-16 units, so only a string
  // longer in units is counted (spreading every title into an array was a third of validation).
  if (value.length > maxLength && codePoints(value) > maxLength) throw new ItemProblem(field, `must be at most ${maxLength} characters`);
  return value;
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/** Characters of an unknown field's name that a rejection repeats. */
export const ECHOED_NAME_LENGTH = 64;

/**
 * An unknown field's name as a rejection names it: its first characters, then "…". Repeated whole,
 * a name of megabytes made a response as large, too large for the database to remember under an
 * Idempotency-Key (503 on every retry).
 */
function shortened(name: string): string {
  let characters = 0;
  for (let i = 0; i < name.length; i += (name.codePointAt(i) ?? 0) > 0xffff ? 2 : 1) {
    if (characters === ECHOED_NAME_LENGTH) return `${name.slice(0, i)}…`;
    characters += 1;
  }
  return name;
}

class ItemProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Validates one item: the record to store, or the field at fault and why. */
export function checkItem(item: unknown): { ok: true; record: NewRecord } | { ok: false; field: string; message: string } {
  try {
    return { ok: true, record: validateItem(item) };
  } catch (error) {
    if (!(error instanceof ItemProblem)) throw error;
    return { ok: false, field: error.field, message: error.message };
  }
}

/** Validates one item, returning the record to store or throwing an ItemProblem. */
function validateItem(item: unknown): NewRecord {
  if (!isPlainObject(item)) throw new ItemProblem('item', 'must be an object');
  const unknownField = Object.keys(item).find((key) => !ITEM_FIELDS.has(key));
  if (unknownField !== undefined) throw new ItemProblem(shortened(unknownField), 'unknown field');
  const title = optionalText(item, 'title', TITLE_MAX_LENGTH);
  const uri = optionalText(item, 'uri', URI_MAX_LENGTH);
  if (item.date === undefined || item.date === null) throw new ItemProblem('date', 'is required');
  if (typeof item.date !== 'string') throw new ItemProblem('date', 'must be a string');
  const date = parseRecordDate(item.date);
  if (!date.ok) throw new ItemProblem('date', date.reason);
  return { title, uri, dateMs: date.ms, dateRaw: item.date };
}

/** Validates each item of a document's `items`: the records to store, and why the others are not. */
function validateItems(items: unknown[]): ValidatedItems {
  const accepted: NewRecord[] = [];
  const rejected: Rejection[] = [];
  items.forEach((item, index) => {
    const checked = checkItem(item);
    if (checked.ok) accepted.push(checked.record);
    else rejected.push({ index, field: checked.field, message: checked.message });
  });
  return { accepted, rejected };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a `{"items": [...]}` document from its bytes: how many values, UTF-8, JSON, its shape, then each item.
 * Plain data in and out, so it runs on the thread that serves requests or on a worker thread.
 */
export function readItemsDocument(document: Uint8Array): ValidatedItems {
  // Counted on the bytes, first: a document refused for its size is neither decoded nor parsed.
  assertFewValues(document);
  let text: string;
  try {
    text = STRICT_UTF8.decode(document);
  } catch {
    throw new InvalidInput('The body is not valid UTF-8.', [{ pointer: '#', detail: 'invalid UTF-8' }]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidInput('The body is not valid JSON.', [{ pointer: '#', detail: 'malformed JSON' }]);
  }
  return validateItems(itemsOf(body));
}
