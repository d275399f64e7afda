/**
 * Kong 3.9.3's core entities in the project's model: services, routes, consumers and the jwt
 * plugin's credentials, with their defaults and entity checks. Routes are modelled for the default
 * router flavor of 3.9 (traditional_compatible). The plugin entity is in plugin-entity.ts.
 */
import { createPublicKey } from 'node:crypto';
import { atLeastOneOf, isDict } from './check.js';
import type { Dict, Field, Finding, RecordField } from './fields.js';
import { wildcardServerNameProblem } from './hosts.js';
import { parseUrl, routePathProblem } from './paths.js';
import {
  array, boolean, COMMENT_FIELDS, headerName, host, hostWithOptionalPort, httpMethod, integer, MAX_TIMEOUT, path, port, protocol, record,
  reference, set, string, tags, timestamp, uuid, utf8Name,
} from './typedefs.js';

/** The foreign keys of each entity: at the top level a name or id, nested under the parent always absent. */
export const FOREIGN_KEYS: Record<string, Record<string, string>> = {
  routes: { service: 'services' },
  plugins: { route: 'routes', service: 'services', consumer: 'consumers' },
  jwt_secrets: { consumer: 'consumers' },
};

const empty = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0) || (isDict(value) && Object.keys(value).length === 0);
const serviceTimeout = integer({ between: [1, MAX_TIMEOUT], default: 60_000 });

/** A service's `url` sets protocol, host, port and path, over any given explicitly. */
function expandServiceUrl(value: unknown): Dict {
  const parsed = parseUrl(String(value));
  const numericPort = parsed.port !== undefined && /^\d+$/.test(parsed.port) ? Number(parsed.port) : undefined;
  const protocolOfPort = numericPort === 80 ? 'http' : numericPort === 443 ? 'https' : undefined;
  const scheme = parsed.scheme ?? protocolOfPort ?? 'http';
  const defaultPort = scheme === 'https' ? 443 : 80;
  return { protocol: scheme, host: parsed.host ?? null, port: numericPort ?? parsed.port ?? defaultPort, path: parsed.path ?? null };
}

/** Fields that only an https or tls service may set: they configure TLS to the upstream. */
const TLS_ONLY = ['client_certificate', 'tls_verify', 'tls_verify_depth', 'ca_certificates'];

export const service = record(
  {
    ...COMMENT_FIELDS,
    id: uuid,
    created_at: timestamp,
    updated_at: timestamp,
    name: utf8Name,
    retries: integer({ default: 5, between: [0, 32_767] }),
    protocol: { ...protocol, required: true, default: 'http' },
    host: { ...host, required: true },
    port: { ...port, required: true, default: 80 },
    path,
    connect_timeout: serviceTimeout,
    write_timeout: serviceTimeout,
    read_timeout: serviceTimeout,
    tags,
    client_certificate: reference(),
    tls_verify: boolean(),
    tls_verify_depth: integer({ between: [0, 64] }),
    ca_certificates: array(uuid),
    enabled: boolean({ required: true, default: true }),
  },
  {
    shorthands: { url: { field: string(), expand: expandServiceUrl } },
    checks: [
      (service): Finding[] => (['tcp', 'tls', 'udp', 'grpc', 'grpcs'].includes(String(service.protocol)) && !empty(service.path) ? [['path', `must not be set when protocol is ${String(service.protocol)}`]] : []),
      (service): Finding[] => (['https', 'tls'].includes(String(service.protocol)) ? [] : TLS_ONLY.filter((field) => service[field] !== undefined && service[field] !== null).map((field) => [field, `must not be set when protocol is ${String(service.protocol)} (only https or tls)`])),
    ],
  },
);

const FAMILIES = [['http', 'https'], ['tcp', 'tls', 'udp'], ['tls_passthrough'], ['grpc', 'grpcs']];
const inFamily = (protocols: unknown[], family: string[]) => protocols.some((name) => family.includes(String(name)));

/** The matchers a route of each protocol family must have at least one of, and those it may not have. */
function routeMatchers(route: Dict): Finding[] {
  const protocols = Array.isArray(route.protocols) ? route.protocols : [];
  const has = (field: string) => !empty(route[field]);
  const needOne = (fields: string[], when: string): Finding[] => (fields.some(has) ? [] : [['', `must set one of ${fields.join(', ')} when protocols include ${when}`]]);
  const refuse = (fields: string[], when: string): Finding[] => fields.filter(has).map((field) => [field, `cannot be set when protocols are ${when}`]);
  const families = FAMILIES.filter((family) => inFamily(protocols, family));
  if (families.length > 1) return [['protocols', `mixes ${families.map((family) => family.join('/')).join(' and ')}, which exclude each other`]];
  const findings: Finding[] = [];
  if (!protocols.some((name) => ['grpcs', 'https', 'tls', 'tls_passthrough'].includes(String(name))) && has('snis')) findings.push(['snis', 'can only be set when protocols include grpcs, https, tls or tls_passthrough']);
  if (inFamily(protocols, ['http', 'https'])) {
    findings.push(...refuse(['sources', 'destinations'], 'http or https'));
    findings.push(...(protocols.includes('https') ? needOne(['methods', 'hosts', 'headers', 'paths', 'snis'], 'https') : needOne(['methods', 'hosts', 'headers', 'paths'], 'http')));
  } else if (inFamily(protocols, ['grpc', 'grpcs'])) {
    findings.push(...refuse(['methods', 'sources', 'destinations'], 'grpc or grpcs'));
    if (route.strip_path === true) findings.push(['strip_path', 'cannot be true when protocols are grpc or grpcs']);
    findings.push(...(protocols.includes('grpcs') ? needOne(['hosts', 'headers', 'paths', 'snis'], 'grpcs') : needOne(['hosts', 'headers', 'paths'], 'grpc')));
  } else if (families.length === 1) {
    findings.push(...refuse(['methods', 'hosts', 'paths', 'headers'], 'tcp, tls, tls_passthrough or udp'));
    findings.push(...(protocols.includes('tls_passthrough') ? needOne(['snis'], 'tls_passthrough') : needOne(['sources', 'destinations', 'snis'], 'tcp, tls or udp')));
  }
  return findings;
}

const routeHost = string({
  check: (value) => {
    if (value.split('*').length > 2) return `'${value}': at most one wildcard`;
    if (value.includes('*') && !value.startsWith('*.') && !value.endsWith('.*')) return `'${value}': a wildcard must be the first or last label`;
    return hostWithOptionalPort.check!(value.replace('*', 'abc'));
  },
});

const ipOrCidr = string({ check: (value) => (/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(value) ? undefined : `'${value}' is not an IP address or CIDR range`) });
const endpoint = record({ ip: ipOrCidr, port }, { checks: [atLeastOneOf('ip', 'port')] });

export const route = record(
  {
    ...COMMENT_FIELDS,
    id: uuid,
    created_at: timestamp,
    updated_at: timestamp,
    name: utf8Name,
    protocols: set(protocol, { required: true, minLength: 1, default: ['http', 'https'] }),
    https_redirect_status_code: integer({ required: true, default: 426, oneOf: [426, 301, 302, 307, 308] }),
    strip_path: boolean({ required: true, default: true }),
    preserve_host: boolean({ required: true, default: false }),
    request_buffering: boolean({ required: true, default: true }),
    response_buffering: boolean({ required: true, default: true }),
    tags,
    service: reference(),
    snis: set(string({ check: wildcardServerNameProblem })),
    sources: set(endpoint),
    destinations: set(endpoint),
    methods: set(httpMethod),
    hosts: array(routeHost),
    paths: array(string({ check: routePathProblem })),
    headers: {
      type: 'map',
      // The Host header is matched through `hosts`, so Kong refuses it here.
      keys: { ...headerName, check: (name) => (/^host$/i.test(name) ? "must not match the Host header; use 'hosts'" : headerName.check!(name)) },
      values: array(string()),
    },
    regex_priority: integer({ default: 0 }),
    path_handling: string({ default: 'v0', oneOf: ['v0', 'v1'] }),
  },
  { checks: [routeMatchers] },
);

export const consumer = record(
  { ...COMMENT_FIELDS, id: uuid, created_at: timestamp, updated_at: timestamp, username: string(), custom_id: string(), tags },
  { checks: [atLeastOneOf('custom_id', 'username')] },
);

/** The algorithms whose jwt secret is a public key that Kong loads when the config is read. */
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

function publicKeyLoads(pem: string): boolean {
  try {
    createPublicKey(pem);
    return true;
  } catch {
    return false;
  }
}

export const jwtSecret = record(
  {
    ...COMMENT_FIELDS,
    id: uuid,
    created_at: timestamp,
    consumer: reference({ required: true }),
    // Kong generates key and secret when they are absent.
    key: string(),
    secret: string(),
    rsa_public_key: string(),
    algorithm: string({ default: 'HS256', oneOf: ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'] }),
    tags,
  },
  {
    checks: [
      (secret): Finding[] => {
        if (!PUBLIC_KEY_ALGORITHMS.includes(String(secret.algorithm))) return [];
        if (typeof secret.rsa_public_key !== 'string') return [['rsa_public_key', `required for algorithm ${String(secret.algorithm)}`]];
        return publicKeyLoads(secret.rsa_public_key) ? [] : [['rsa_public_key', 'is not a key that parses (PEM or DER)']];
      },
    ],
  },
);

/** The entity under its parent: the parent link is implied, so every foreign key must be absent. */
export function nested(entity: RecordField, name: string): RecordField {
  const foreign = Object.keys(FOREIGN_KEYS[name] ?? {});
  const fields: Record<string, Field> = { ...entity.fields };
  for (const key of foreign) fields[key] = { type: 'any', onlyNull: 'must not be set on a nested entity (the parent is implied)' };
  return { ...entity, fields };
}

export const withChildren = (entity: RecordField, children: Record<string, RecordField>): RecordField => ({
  ...entity,
  fields: { ...entity.fields, ...Object.fromEntries(Object.entries(children).map(([key, child]) => [key, array(child)])) },
});
