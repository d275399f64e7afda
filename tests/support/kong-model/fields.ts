/**
 * The vocabulary of the project's model of Kong's schemas: the kinds of field a schema is made of,
 * and what a record's own checks report. check.ts checks a value against them.
 */

export type Dict = Record<string, unknown>;

interface Common {
  required?: boolean;
  /** Filled in when the key is absent (not when it is an explicit null). */
  default?: unknown;
  /** The field may only be absent or null; the message says why. */
  onlyNull?: string;
}

export interface StringField extends Common {
  type: 'string';
  /** Kong refuses empty strings unless a field says otherwise. */
  minLength?: number;
  oneOf?: readonly string[];
  /** Returns the problem with the value, if any. */
  check?: (value: string) => string | undefined;
  /** A `{vault://...}` reference skips the field's checks: Kong resolves it at run time. */
  referenceable?: boolean;
}

export interface NumberField extends Common {
  type: 'integer' | 'number';
  between?: readonly [number, number];
  above?: number;
  oneOf?: readonly number[];
}

interface BooleanField extends Common {
  type: 'boolean';
}

/** A `set` drops repeated elements before validation; an `array` keeps them. */
export interface ListField extends Common {
  type: 'array' | 'set';
  elements: Field;
  minLength?: number;
  check?: (values: unknown[]) => string | undefined;
}

interface MapField extends Common {
  type: 'map';
  keys: StringField;
  values: Field;
}

/** A problem a record check finds: the field it concerns ('' for the record itself) and why. */
export type Finding = [field: string, message: string];

export interface Shorthand {
  field: Field;
  /** Where a deprecated shorthand's value goes; giving both with different values is refused. */
  movesTo?: readonly string[];
  /** A current shorthand (a service's `url`): its fields override the explicit ones. */
  expand?: (value: unknown) => Dict;
}

export interface RecordField extends Common {
  type: 'record';
  fields: Record<string, Field>;
  shorthands?: Record<string, Shorthand>;
  /** Fields that depend on the record's raw contents (a plugin's config depends on its name). */
  variant?: (raw: Dict) => Record<string, Field>;
  checks?: ReadonlyArray<(record: Dict) => Finding[]>;
}

/** Any value; used for fields whose contents Kong does not check (`_ignore`). */
interface AnyField extends Common {
  type: 'any';
}

export type Field = StringField | NumberField | BooleanField | ListField | MapField | RecordField | AnyField;
