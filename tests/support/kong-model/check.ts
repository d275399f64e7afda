/**
 * The engine of the project's model of Kong's schemas: how a value is checked against a field,
 * in the order Kong does it (shorthands, then defaults, then types and validators, then the
 * record's own checks). Each problem is `<path>: <message>`, the path in the file's own terms
 * (`services[0].routes[1].paths[0]`), so a failure names the field to fix.
 */
import type { Dict, Field, Finding, ListField, NumberField, RecordField, Shorthand, StringField } from './fields.js';

type Value = unknown;

export const isDict = (value: unknown): value is Dict => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNull = (value: unknown) => value === null || value === undefined;
export const join = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);
const VAULT_REFERENCE = /^\{vault:\/\/.+\}$/;

/** Checks `value` against `field`; pushes each problem onto `problems` and returns the value as Kong would store it. */
export function check(field: Field, value: Value, path: string, problems: string[]): Value {
  const say = (message: string) => problems.push(`${path || '(top level)'}: ${message}`);
  if (value === undefined && field.default !== undefined) value = structuredClone(field.default);
  if (isNull(value)) {
    if (field.required) say('required field missing');
    return value;
  }
  if (field.onlyNull) {
    say(field.onlyNull);
    return value;
  }
  switch (field.type) {
    case 'any':
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') say('must be a boolean');
      return value;
    case 'integer':
    case 'number':
      checkNumber(field, value, say);
      return value;
    case 'string':
      if (typeof value !== 'string') say('must be a string');
      else checkString(field, value, say);
      return value;
    case 'array':
    case 'set':
      return checkList(field, value, path, problems, say);
    case 'map':
      if (!isDict(value)) {
        say('must be a map');
        return value;
      }
      return Object.fromEntries(Object.entries(value).map(([key, item]) => {
        const at = join(path, key);
        const keyProblem = checkKey(field.keys, key);
        if (keyProblem) problems.push(`${at}: ${keyProblem}`);
        return [key, check({ required: true, ...field.values }, item, at, problems)];
      }));
    case 'record':
      return checkRecord(field, value, path, problems, say);
  }
}

function checkNumber(field: NumberField, value: unknown, say: (message: string) => void) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return say(`must be ${field.type === 'integer' ? 'an integer' : 'a number'}`);
  if (field.type === 'integer' && !Number.isInteger(value)) return say('must be an integer');
  if (field.between && (value < field.between[0] || value > field.between[1])) return say(`must be between ${field.between[0]} and ${field.between[1]}`);
  if (field.above !== undefined && value <= field.above) return say(`must be greater than ${field.above}`);
  if (field.oneOf && !field.oneOf.includes(value)) return say(`must be one of ${field.oneOf.join(', ')}`);
}

function checkString(field: StringField, value: string, say: (message: string) => void) {
  if (field.referenceable && VAULT_REFERENCE.test(value)) return;
  const minLength = field.minLength ?? 1;
  if (value.length < minLength) return say(minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters`);
  if (field.oneOf && !field.oneOf.includes(value)) return say(`'${value}' is not one of ${field.oneOf.join(', ')}`);
  const problem = field.check?.(value);
  if (problem) say(problem);
}

function checkKey(field: StringField, key: string): string | undefined {
  const problems: string[] = [];
  checkString(field, key, (message) => problems.push(message));
  return problems[0];
}

/** Same value for a set: Kong compares elements by value, case and all. */
const sameKey = (value: unknown) => JSON.stringify(value);

function checkList(field: ListField, value: unknown, path: string, problems: string[], say: (message: string) => void): Value {
  if (!Array.isArray(value)) {
    say(`must be a list (${field.type})`);
    return value;
  }
  const seen = new Set<string>();
  const kept = value.map((item) => field.type === 'array' || (!seen.has(sameKey(item)) && Boolean(seen.add(sameKey(item)))));
  if (kept.filter(Boolean).length < (field.minLength ?? 0)) say(`must have at least ${field.minLength} element${field.minLength === 1 ? '' : 's'}`);
  // Elements keep their index in the file, so a problem points at the entry as written.
  const result = value.flatMap((item, index) => (kept[index] ? [check({ required: true, ...field.elements }, item, join(path, index), problems)] : []));
  const problem = field.check?.(result);
  if (problem) say(problem);
  return result;
}

function checkRecord(field: RecordField, value: unknown, path: string, problems: string[], say: (message: string) => void): Value {
  if (!isDict(value)) {
    say('must be a record (a map of fields)');
    return value;
  }
  const fields = { ...field.fields, ...field.variant?.(value) };
  const record = applyShorthands(field.shorthands ?? {}, { ...value }, path, problems);
  for (const key of Object.keys(record)) if (!(key in fields)) problems.push(`${join(path, key)}: unknown field`);
  const result: Dict = {};
  for (const [key, child] of Object.entries(fields)) {
    const checked = check(child, record[key], join(path, key), problems);
    if (checked !== undefined) result[key] = checked;
  }
  for (const recordCheck of field.checks ?? []) {
    for (const [at, message] of recordCheck(result)) {
      if (at) problems.push(`${join(path, at)}: ${message}`);
      else say(message);
    }
  }
  return result;
}

const getPath = (record: Dict, keys: readonly string[]): unknown => keys.reduce<unknown>((node, key) => (isDict(node) ? node[key] : undefined), record);
function setPath(record: Dict, keys: readonly string[], value: unknown) {
  let node = record;
  for (const key of keys.slice(0, -1)) {
    if (!isDict(node[key])) node[key] = {};
    node = node[key] as Dict;
  }
  node[keys[keys.length - 1]!] = value;
}

function applyShorthands(shorthands: Record<string, Shorthand>, record: Dict, path: string, problems: string[]): Dict {
  for (const [name, shorthand] of Object.entries(shorthands)) {
    if (!(name in record)) continue;
    const value = record[name];
    delete record[name];
    const before = problems.length;
    check(shorthand.field, value, join(path, name), problems);
    if (problems.length > before || isNull(value)) continue;
    if (shorthand.expand) Object.assign(record, shorthand.expand(value));
    if (shorthand.movesTo) {
      // Kong takes a deprecated name's value as the new field's, unless both are given and differ.
      const current = getPath(record, shorthand.movesTo);
      if (isNull(current)) {
        // Copy the nested record first, so the original config object is never changed.
        if (shorthand.movesTo.length > 1 && isDict(record[shorthand.movesTo[0]!])) record[shorthand.movesTo[0]!] = { ...(record[shorthand.movesTo[0]!] as Dict) };
        setPath(record, shorthand.movesTo, value);
      } else if (sameKey(current) !== sameKey(value)) {
        problems.push(`${join(path, name)}: deprecated, and its value differs from ${join(path, shorthand.movesTo.join('.'))} (${String(value)} vs ${String(current)})`);
      }
    }
  }
  return record;
}

/** A record check: at least one of these fields must be set (null, '' and [] count as unset). */
export const atLeastOneOf = (...fields: string[]) => (record: Dict): Finding[] => {
  const set = fields.some((key) => {
    const value = getPath(record, key.split('.'));
    return !isNull(value) && value !== '' && !(Array.isArray(value) && value.length === 0) && !(isDict(value) && Object.keys(value).length === 0);
  });
  return set ? [] : [['', `needs at least one of ${fields.join(', ')}`]];
};

