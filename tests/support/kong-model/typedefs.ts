/** The field types Kong 3.9.3's entities and plugins share, in the project's model. */
import type { Field, ListField, NumberField, RecordField, StringField } from './fields.js';
import { hostProblem, hostWithPortProblem, serverNameProblem } from './hosts.js';
import { pathProblem, urlProblem } from './paths.js';

/** Protocols of Kong OSS; ws and wss exist only in Kong Enterprise. */
const PROTOCOLS = ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp'] as const;
const HTTP_PROTOCOLS = ['grpc', 'grpcs', 'http', 'https'] as const;

/** A lone surrogate cannot be encoded as UTF-8: Kong would see invalid bytes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const string = (more: Partial<StringField> = {}): StringField => ({ type: 'string', ...more });
export const boolean = (more: { required?: boolean; default?: boolean } = {}): Field => ({ type: 'boolean', ...more });
export const integer = (more: Partial<NumberField> = {}): NumberField => ({ type: 'integer', ...more });
export const number = (more: Partial<NumberField> = {}): NumberField => ({ type: 'number', ...more });
export const array = (elements: Field, more: Partial<ListField> = {}): ListField => ({ type: 'array', elements, ...more });
export const set = (elements: Field, more: Partial<ListField> = {}): ListField => ({ type: 'set', elements, ...more });
export const record = (fields: Record<string, Field>, more: Partial<RecordField> = {}): RecordField => ({ type: 'record', fields, ...more });

/** Names of services, routes and plugin instances: letters, digits, `. - _ ~`, and any non-ASCII character. */
const isAscii = (char: string) => char.charCodeAt(0) < 0x80;
export const utf8Name = string({
  check: (name) => (LONE_SURROGATE.test(name) || [...name.replace(/[A-Za-z0-9._~-]/g, '')].some(isAscii) ? `'${name}': only letters, digits, '.', '-', '_', '~' and non-ASCII characters are allowed` : undefined),
});

const isControlOrSeparator = (char: string) => char.charCodeAt(0) < 0x20 || char === '\x7F' || char === ',' || char === '/';
/** A tag: printable ASCII but `,` and `/`, the space, and any non-ASCII character. */
const tag = string({
  check: (value) => (LONE_SURROGATE.test(value) || [...value].some(isControlOrSeparator) ? `'${value}' may not contain ',', '/' or control characters` : undefined),
});
export const tags = set(tag);

export const headerName = string({ check: (name) => (/^[A-Za-z0-9_-]+$/.test(name) ? undefined : `'${name}' is not a header name (letters, digits, '-' and '_')`) });
export const httpMethod = string({ check: (method) => (/^[A-Z]+$/.test(method) ? undefined : `'${method}' is not an upper-case method`) });
export const host = string({ check: hostProblem });
export const hostWithOptionalPort = string({ check: hostWithPortProblem });
export const serverName = string({ check: serverNameProblem });
export const path = string({ check: pathProblem });
export const url = (more: Partial<StringField> = {}) => string({ check: urlProblem, ...more });
export const port = integer({ between: [0, 65_535] });
/** Kong's timeouts stop one short of 2^31 - 1. */
export const MAX_TIMEOUT = 2 ** 31 - 2;
export const timeout = (defaultValue?: number) => integer({ between: [0, MAX_TIMEOUT], default: defaultValue });
export const protocol = string({ oneOf: PROTOCOLS });
export const uuid = string({ check: (id) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? undefined : `'${id}' is not a UUID`) });
export const timestamp = integer();

/** A plugin's `protocols` when it serves HTTP only. */
export const httpProtocols = set(string({ oneOf: HTTP_PROTOCOLS }), { required: true, default: [...HTTP_PROTOCOLS] });
/** A plugin's `protocols` when it serves every protocol (prometheus). */
export const anyProtocols = set(protocol, { required: true, default: [...HTTP_PROTOCOLS] });

/** A reference to another entity at the top level of the file: its name (or username) or its id. */
export const reference = (more: Partial<StringField> = {}) => string(more);

/** The free comment fields Kong allows in every entity (not in a plugin's config). */
export const COMMENT_FIELDS: Record<string, Field> = { _comment: string(), _ignore: array({ type: 'any' }) };

/** The shared queue settings of plugins that send in batches. */
export const queue = (maxBatchSize: number) =>
  record(
    {
      max_batch_size: integer({ default: maxBatchSize, between: [1, 1_000_000] }),
      max_coalescing_delay: number({ default: 1, between: [0, 3600] }),
      max_entries: integer({ default: 10_000, between: [1, 1_000_000] }),
      max_bytes: integer(),
      max_retry_time: number({ default: 60 }),
      initial_retry_delay: number({ default: 0.01, between: [0.001, 1_000_000] }),
      max_retry_delay: number({ default: 60, between: [0.001, 1_000_000] }),
      concurrency_limit: integer({ default: 1, oneOf: [-1, 1] }),
    },
    { required: true, default: { max_batch_size: maxBatchSize } },
  );
