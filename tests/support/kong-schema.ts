import { Ajv, type ErrorObject } from 'ajv';

/**
 * Kong 3.9's declarative format: its entities and the configuration of every plugin this project
 * uses, field by field, as Kong's own schemas define them (types, enums, ranges, defaults left
 * out). Every object is closed, so a misspelt or unknown field fails as Kong would refuse it.
 * Debian's decK 1.4 checks little of this, and a current decK is not served by the Go module proxy
 * here; a plugin added to kong.yaml needs its schema here, or validation fails.
 */

const string = { type: 'string' };
const nonEmpty = { type: 'string', minLength: 1 };
const boolean = { type: 'boolean' };
const strings = { type: 'array', items: string };
const tags = { type: 'array', items: { type: 'string', pattern: '^[^,\\s]+$' }, uniqueItems: true };
const port = { type: 'integer', minimum: 0, maximum: 65535 };
const timeout = { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 };
const closed = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required });
const headerList = { type: 'array', items: { type: 'string', pattern: '^[^:]+:.*$' } };

const redis = closed({
  host: nonEmpty,
  port,
  timeout,
  connect_timeout: timeout,
  send_timeout: timeout,
  read_timeout: timeout,
  username: string,
  password: string,
  database: { type: 'integer', minimum: 0 },
  ssl: boolean,
  ssl_verify: boolean,
  server_name: string,
});

const period = { type: 'number', exclusiveMinimum: 0 };
const PROPAGATION_FORMATS = ['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'aws', 'gcp', 'datadog', 'instana'];

const PLUGIN_CONFIGS: Record<string, object> = {
  jwt: {
    ...closed({
      uri_param_names: strings,
      cookie_names: strings,
      header_names: strings,
      key_claim_name: nonEmpty,
      secret_is_base64: boolean,
      claims_to_verify: { type: 'array', uniqueItems: true, items: { enum: ['exp', 'nbf'] } },
      anonymous: string,
      run_on_preflight: boolean,
      maximum_expiration: { type: 'number', minimum: 0, maximum: 31_536_000 },
      realm: string,
    }),
    // Kong: a maximum_expiration needs exp among the verified claims.
    if: { properties: { maximum_expiration: { exclusiveMinimum: 0 } }, required: ['maximum_expiration'] },
    then: { properties: { claims_to_verify: { contains: { const: 'exp' } } }, required: ['claims_to_verify'] },
  },
  'rate-limiting': {
    ...closed({
      second: period,
      minute: period,
      hour: period,
      day: period,
      month: period,
      year: period,
      limit_by: { enum: ['consumer', 'credential', 'ip', 'service', 'header', 'path', 'consumer-group'] },
      header_name: string,
      path: string,
      policy: { enum: ['local', 'cluster', 'redis'] },
      fault_tolerant: boolean,
      redis,
      hide_client_headers: boolean,
      error_code: { type: 'number', exclusiveMinimum: 0 },
      error_message: string,
      sync_rate: { type: 'number' },
    }),
    anyOf: ['second', 'minute', 'hour', 'day', 'month', 'year'].map((name) => ({ required: [name] })),
    if: { properties: { policy: { const: 'redis' } }, required: ['policy'] },
    then: { required: ['redis'], properties: { redis: { required: ['host'] } } },
  },
  'request-size-limiting': closed({
    allowed_payload_size: { type: 'integer', minimum: 0 },
    size_unit: { enum: ['megabytes', 'kilobytes', 'bytes'] },
    require_content_length: boolean,
  }),
  'correlation-id': closed({
    header_name: nonEmpty,
    generator: { enum: ['uuid', 'uuid#counter', 'tracker'] },
    echo_downstream: boolean,
  }),
  cors: closed({
    origins: strings,
    headers: strings,
    exposed_headers: strings,
    methods: { type: 'array', items: { enum: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'] } },
    max_age: { type: 'number', minimum: 0 },
    credentials: boolean,
    private_network: boolean,
    preflight_continue: boolean,
    allow_origin_absent: boolean,
  }),
  // Kong 3.9's opentelemetry plugin (kong/plugins/opentelemetry/schema.lua, typedefs.propagation).
  opentelemetry: closed({
    traces_endpoint: { type: 'string', pattern: '^https?://[^\\s/]+(/\\S*)?$' },
    logs_endpoint: { type: 'string', pattern: '^https?://[^\\s/]+(/\\S*)?$' },
    headers: { type: 'object', additionalProperties: string },
    resource_attributes: { type: 'object', additionalProperties: nonEmpty },
    queue: { type: 'object' },
    connect_timeout: timeout,
    send_timeout: timeout,
    read_timeout: timeout,
    http_response_header_for_traceid: string,
    sampling_rate: { type: 'number', minimum: 0, maximum: 1 },
    propagation: closed({
      extract: { type: 'array', items: { enum: PROPAGATION_FORMATS } },
      inject: { type: 'array', items: { enum: ['preserve', ...PROPAGATION_FORMATS] } },
      clear: strings,
      default_format: { enum: PROPAGATION_FORMATS },
    }),
  }),
  prometheus: closed({
    per_consumer: boolean,
    status_code_metrics: boolean,
    latency_metrics: boolean,
    bandwidth_metrics: boolean,
    upstream_health_metrics: boolean,
    ai_metrics: boolean,
  }),
  'response-transformer': closed({
    remove: closed({ headers: strings, json: strings }),
    rename: closed({ headers: headerList, json: headerList }),
    replace: closed({ headers: headerList, json: headerList, json_types: { type: 'array', items: { enum: ['boolean', 'number', 'string'] } } }),
    add: closed({ headers: headerList, json: headerList, json_types: { type: 'array', items: { enum: ['boolean', 'number', 'string'] } } }),
    append: closed({ headers: headerList, json: headerList, json_types: { type: 'array', items: { enum: ['boolean', 'number', 'string'] } } }),
  }),
};

const plugin = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { enum: Object.keys(PLUGIN_CONFIGS) },
    instance_name: string,
    enabled: boolean,
    protocols: { type: 'array', items: { enum: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'udp', 'tls_passthrough', 'ws', 'wss'] } },
    tags,
    ordering: { type: 'object' },
    config: { type: 'object' },
  },
  additionalProperties: false,
  allOf: Object.entries(PLUGIN_CONFIGS).map(([name, config]) => ({
    if: { properties: { name: { const: name } } },
    then: { properties: { config } },
  })),
};

const route = closed(
  {
    name: { type: 'string', pattern: '^[A-Za-z0-9._~-]+$' },
    protocols: { type: 'array', minItems: 1, items: { enum: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'udp', 'tls_passthrough', 'ws', 'wss'] } },
    methods: { type: 'array', items: { type: 'string', pattern: '^[A-Z]+$' } },
    hosts: { type: 'array', items: { type: 'string', pattern: '^(\\*\\.)?[a-z0-9.-]+(\\.\\*)?(:\\d+)?$' } },
    paths: { type: 'array', items: { type: 'string', pattern: '^(/|~/)' } },
    headers: { type: 'object', additionalProperties: strings },
    https_redirect_status_code: { enum: [426, 301, 302, 307, 308] },
    regex_priority: { type: 'integer' },
    strip_path: boolean,
    path_handling: { enum: ['v0', 'v1'] },
    preserve_host: boolean,
    request_buffering: boolean,
    response_buffering: boolean,
    snis: strings,
    tags,
    plugins: { type: 'array', items: plugin },
  },
  ['name'],
);

const service = closed(
  {
    name: { type: 'string', pattern: '^[A-Za-z0-9._~-]+$' },
    url: { type: 'string', pattern: '^(https?|grpcs?|tcp|tls|udp|wss?)://' },
    protocol: { enum: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'] },
    host: nonEmpty,
    port,
    path: { type: 'string', pattern: '^/' },
    retries: { type: 'integer', minimum: 0, maximum: 32_767 },
    connect_timeout: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
    write_timeout: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
    read_timeout: { type: 'integer', minimum: 1, maximum: 2 ** 31 - 1 },
    enabled: boolean,
    tls_verify: boolean,
    tls_verify_depth: { type: 'integer', minimum: 0, maximum: 64 },
    tags,
    routes: { type: 'array', items: route },
    plugins: { type: 'array', items: plugin },
  },
  ['name'],
);

const jwtSecret = closed(
  {
    key: nonEmpty,
    algorithm: { enum: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] },
    rsa_public_key: { type: 'string', pattern: '^-----BEGIN PUBLIC KEY-----' },
    secret: string,
    tags,
  },
  ['key', 'algorithm'],
);

const consumer = closed({ username: nonEmpty, custom_id: nonEmpty, tags, jwt_secrets: { type: 'array', items: jwtSecret }, plugins: { type: 'array', items: plugin } });

const KONG_DECLARATIVE_SCHEMA = closed(
  {
    _format_version: { const: '3.0' },
    _transform: boolean,
    services: { type: 'array', items: service },
    routes: { type: 'array', items: route },
    consumers: { type: 'array', items: consumer },
    plugins: { type: 'array', items: plugin },
  },
  ['_format_version'],
);

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(KONG_DECLARATIVE_SCHEMA);

const describe = (error: ErrorObject) =>
  `${error.instancePath || '/'} ${error.message}${error.params && 'additionalProperty' in error.params ? `: ${String(error.params.additionalProperty)}` : ''}${error.params && 'allowedValues' in error.params ? `: ${JSON.stringify(error.params.allowedValues)}` : ''}`;

/** The problems Kong 3.9 would report for this declarative config (empty when valid). */
export function kongSchemaErrors(config: unknown): string[] {
  if (validate(config)) return [];
  // `if/then` wrappers report their own failure beside the real one; keep the real ones.
  return [...new Set((validate.errors ?? []).filter((error) => error.keyword !== 'if').map(describe))];
}

export const SCHEMA_PLUGINS = Object.keys(PLUGIN_CONFIGS);
