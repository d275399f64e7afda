import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { KONG_MODEL_VERSION, kongModelProblems } from '../support/kong-model/index.js';

/**
 * Holds the project's model of Kong 3.9.3's schemas to what Kong 3.9.3 itself does, read from its
 * schema files: each case changes the staging config, and the model must refuse what Kong refuses,
 * naming the field, and accept what Kong accepts.
 */

const STAGING = 'kong/generated/staging/kong.yaml';
const base = parse(readFileSync(STAGING, 'utf8'));
const loaded = String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');
const problemsOf = (config: unknown) => kongModelProblems(config, loaded);

// Where things sit in the staging config; looked up so that a reordered config keeps the cases meaningful.
const globalIndex = (name: string) => base.plugins.findIndex((plugin: any) => plugin.name === name);
const routePluginIndex = (route: number, name: string) => base.services[0].routes[route].plugins.findIndex((plugin: any) => plugin.name === name);
const G = (name: string) => `plugins[${globalIndex(name)}]`;
const R = (route: number) => `services[0].routes[${route}]`;
const RP = (route: number, name: string) => `${R(route)}.plugins[${routePluginIndex(route, name)}]`;
const RL = `${RP(0, 'rate-limiting')}.config`;
const OTEL = `${G('opentelemetry')}.config`;
const CORS = `${G('cors')}.config`;
const SECRET = 'consumers[0].jwt_secrets[0]';

const route = (c: any, index = 0) => c.services[0].routes[index];
const routePlugin = (c: any, index: number, name: string) => route(c, index).plugins.find((plugin: any) => plugin.name === name).config;
const limits = (c: any) => routePlugin(c, 0, 'rate-limiting');
const jwtConfig = (c: any) => routePlugin(c, 0, 'jwt');
const global = (c: any, name: string) => c.plugins.find((plugin: any) => plugin.name === name).config;
const otel = (c: any) => global(c, 'opentelemetry');
const secret = (c: any) => c.consumers[0].jwt_secrets[0];
const otherConsumer = (c: any) => ({ ...structuredClone(c.consumers[0]), username: 'second-issuer' });
const EC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

const mutated = (mutate: (config: any) => void) => {
  const config = structuredClone(base);
  mutate(config);
  return config;
};

type Refusal = [what: string, mutate: (config: any) => void, field: string, message: RegExp];

/** What Kong 3.9.3 refuses, the field the model must name, and what its message must say. */
const REFUSED: Refusal[] = [
  // The cases of issue #31.
  ['rate-limiting limit_by consumer-group (Enterprise)', (c) => (limits(c).limit_by = 'consumer-group'), `${RL}.limit_by`, /not one of/],
  ['rate-limiting policy cluster (DB-less)', (c) => (limits(c).policy = 'cluster'), `${RL}.policy`, /not one of local, redis$/],
  ['redis connect_timeout', (c) => (limits(c).redis.connect_timeout = 1000), `${RL}.redis.connect_timeout`, /unknown field/],
  ['redis send_timeout', (c) => (limits(c).redis.send_timeout = 1000), `${RL}.redis.send_timeout`, /unknown field/],
  ['redis read_timeout', (c) => (limits(c).redis.read_timeout = 1000), `${RL}.redis.read_timeout`, /unknown field/],
  ['a redis host with a port', (c) => (limits(c).redis.host = 'valkey.data.svc.cluster.local:6379'), `${RL}.redis.host`, /must not have a port/],
  ['a redis_host shorthand with a port', (c) => { delete limits(c).redis.host; limits(c).redis_host = '10.0.0.1:6379'; }, `${RL}.redis.host`, /must not have a port/],
  ['an empty route name', (c) => (route(c).name = ''), `${R(0)}.name`, /must not be empty/],
  ['an empty service name', (c) => (c.services[0].name = ''), 'services[0].name', /must not be empty/],
  ['an empty tag', (c) => (route(c).tags = ['']), `${R(0)}.tags[0]`, /must not be empty/],
  ['an empty key_claim_name', (c) => (jwtConfig(c).key_claim_name = ''), `${RP(0, 'jwt')}.config.key_claim_name`, /must not be empty/],
  ['an empty consumer username', (c) => (c.consumers[0].username = ''), 'consumers[0].username', /must not be empty/],
  ['an empty correlation-id header', (c) => (global(c, 'correlation-id').header_name = ''), `${G('correlation-id')}.config.header_name`, /must not be empty/],
  ['an empty CORS origin', (c) => (global(c, 'cors').origins = ['']), `${CORS}.origins[0]`, /must not be empty/],
  ['an empty redis username', (c) => (limits(c).redis.username = ''), `${RL}.redis.username`, /must not be empty/],
  ['a wss route', (c) => (route(c).protocols = ['wss']), `${R(0)}.protocols[0]`, /'wss' is not one of/],
  ['a ws service', (c) => (c.services[0].url = 'ws://records.records.svc.cluster.local:8000'), 'services[0].protocol', /'ws' is not one of/],
  ['a plugin on ws', (c) => (c.plugins[0].protocols = ['https', 'ws']), `${G('correlation-id')}.protocols[1]`, /'ws' is not one of/],
  ['ordering on a route', (c) => (route(c).ordering = { before: { access: ['jwt'] } }), `${R(0)}.ordering`, /unknown field/],
  ['ordering on a plugin (Enterprise)', (c) => (c.plugins[0].ordering = { before: { access: ['jwt'] } }), `${G('correlation-id')}.ordering`, /unknown field/],
  ['the instana extract format', (c) => (otel(c).propagation.extract = ['w3c', 'instana']), `${OTEL}.propagation.extract[1]`, /'instana' is not one of/],
  ['the instana inject format', (c) => (otel(c).propagation.inject = ['instana']), `${OTEL}.propagation.inject[0]`, /'instana' is not one of/],
  ['the instana default format', (c) => (otel(c).propagation.default_format = 'instana'), `${OTEL}.propagation.default_format`, /'instana' is not one of/],
  ['CORS allow_origin_absent (not in 3.9)', (c) => (global(c, 'cors').allow_origin_absent = true), `${CORS}.allow_origin_absent`, /unknown field/],
  ['b3-single in extract', (c) => (otel(c).propagation.extract = ['b3-single']), `${OTEL}.propagation.extract[0]`, /'b3-single' is not one of/],
  ['opentelemetry with neither traces_endpoint nor logs_endpoint', (c) => delete otel(c).traces_endpoint, OTEL, /at least one of traces_endpoint, logs_endpoint/],
  ['a plain route path with //', (c) => (route(c).paths = ['/v1//records']), `${R(0)}.paths[0]`, /must not contain '\/\/'/],
  ['a regex route path with //', (c) => (route(c).paths = ['~/v1//[^/]+$']), `${R(0)}.paths[0]`, /must not contain '\/\/'/],
  ['a route path with ..', (c) => (route(c).paths = ['/v1/../metrics']), `${R(0)}.paths[0]`, /not in normal form.*'\/metrics'/],
  ['a route path with .', (c) => (route(c).paths = ['/v1/./bulk']), `${R(0)}.paths[0]`, /not in normal form.*'\/v1\/bulk'/],
  ['a route path with an encoded letter', (c) => (route(c).paths = ['/v%31']), `${R(0)}.paths[0]`, /not in normal form.*'\/v1'/],
  ['a route path with lower-case hex of a reserved character', (c) => (route(c).paths = ['/v1%2fbulk']), `${R(0)}.paths[0]`, /not in normal form.*%2F/],
  ['a route matching the Host header', (c) => (route(c).headers = { host: ['api.staging.example.org'] }), `${R(0)}.headers.host`, /Host header/],
  ['a route matching the Host header, any case', (c) => (route(c).headers = { HOST: ['x'] }), `${R(0)}.headers.HOST`, /Host header/],
  ['a tag with /', (c) => (route(c).tags = ['records/public']), `${R(0)}.tags[0]`, /may not contain/],
  ['a tag with ,', (c) => (c.services[0].tags = ['a,b']), 'services[0].tags[0]', /may not contain/],
  ['a tag with a tab', (c) => (c.consumers[0].tags = ['a\tb']), 'consumers[0].tags[0]', /may not contain/],
  ['a service with no host (no url)', (c) => delete c.services[0].url, 'services[0].host', /required field missing/],
  ['a service url without a host', (c) => (c.services[0].url = 'records:8000'), 'services[0].host', /required field missing/],
  ['tls_verify on an http service', (c) => (c.services[0].tls_verify = true), 'services[0].tls_verify', /only https or tls/],
  ['tls_verify false on an http service', (c) => (c.services[0].tls_verify = false), 'services[0].tls_verify', /only https or tls/],
  ['tls_verify_depth on an http service', (c) => (c.services[0].tls_verify_depth = 2), 'services[0].tls_verify_depth', /only https or tls/],
  ['a consumer with neither username nor custom_id', (c) => delete c.consumers[0].username, 'consumers[0]', /at least one of custom_id, username/],
  ['a service timeout of 2^31-1', (c) => (c.services[0].connect_timeout = 2 ** 31 - 1), 'services[0].connect_timeout', /between 1 and 2147483646/],
  ['a service timeout of 0', (c) => (c.services[0].read_timeout = 0), 'services[0].read_timeout', /between 1 and 2147483646/],
  ['a redis timeout of 2^31-1', (c) => (limits(c).redis.timeout = 2 ** 31 - 1), `${RL}.redis.timeout`, /between 0 and 2147483646/],
  ['an opentelemetry timeout of 2^31-1', (c) => (otel(c).send_timeout = 2 ** 31 - 1), `${OTEL}.send_timeout`, /between 0 and 2147483646/],
  ['sync_rate 0.01 with redis', (c) => (limits(c).sync_rate = 0.01), `${RL}.sync_rate`, /at least 0.02/],
  ['sync_rate 0 with redis', (c) => (limits(c).sync_rate = 0), `${RL}.sync_rate`, /at least 0.02/],
  ['sync_rate -0.5 with redis', (c) => (limits(c).sync_rate = -0.5), `${RL}.sync_rate`, /at least 0.02/],
  ['sync_rate with policy local', (c) => { limits(c).policy = 'local'; limits(c).sync_rate = 1; }, `${RL}.sync_rate`, /only be set with policy redis/],
  ['a minute limit below the second limit', (c) => (limits(c).minute = 10), `${RL}.minute`, /below the limit for second/],
  ['an hour limit below the second limit (not neighbours)', (c) => { delete limits(c).minute; limits(c).hour = 10; }, `${RL}.hour`, /below the limit for second/],
  ['a CORS origin that is not a regex', (c) => (global(c, 'cors').origins = ['https://(app.example.org']), `${CORS}.origins[0]`, /not a valid regex/],
  ['an RS256 jwt secret whose key does not parse', (c) => (secret(c).rsa_public_key = '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n'), `${SECRET}.rsa_public_key`, /does not parse|not a key that parses/],
  ['the same jwt secret key on two consumers', (c) => c.consumers.push(otherConsumer(c)), 'consumers[1].jwt_secrets[0].key', /already the key of consumers\[0\]\.jwt_secrets\[0\]/],

  // What Debian's decK 1.4 let through.
  ['a _format_version of 9.9', (c) => (c._format_version = '9.9'), '_format_version', /'9.9' is not one of/],
  ['a jwt secret algorithm XX999', (c) => (secret(c).algorithm = 'XX999'), `${SECRET}.algorithm`, /'XX999' is not one of/],
  ['a rate-limiting policy redisss', (c) => (limits(c).policy = 'redisss'), `${RL}.policy`, /'redisss' is not one of/],
  ['a propagation format w4c', (c) => (otel(c).propagation.default_format = 'w4c'), `${OTEL}.propagation.default_format`, /'w4c' is not one of/],
  ['a negative redis timeout', (c) => (limits(c).redis.timeout = -5), `${RL}.redis.timeout`, /between 0 and 2147483646/],

  // The top level of the file.
  ['_format_version 3.0 as a number', (c) => (c._format_version = 3.0), '_format_version', /must be a string/],
  ['_format_version 3.1', (c) => (c._format_version = '3.1'), '_format_version', /not one of 1.1, 2.1, 3.0/],
  ['no _format_version', (c) => delete c._format_version, '_format_version', /required field missing/],
  ['an Enterprise _workspace', (c) => (c._workspace = 'default'), '_workspace', /unknown field/],
  ['top-level tags', (c) => (c.tags = ['records']), 'tags', /unknown field/],
  ['_comment inside a plugin config', (c) => (global(c, 'prometheus')._comment = 'x'), `${G('prometheus')}.config._comment`, /unknown field/],
  ['a collection the model does not cover', (c) => (c.upstreams = [{ name: 'records' }]), 'upstreams', /model/],
  ['a top-level route naming a service that does not exist', (c) => c.routes = [{ name: 'extra', service: 'nowhere', paths: ['/extra'] }], 'routes[0].service', /no entry of services has the name or id 'nowhere'/],

  // Routes.
  ['a regex PCRE accepts and the Rust router does not (look-ahead)', (c) => (route(c).paths = ['~/v1/(?!bulk)[^/]+$']), `${R(0)}.paths[0]`, /look-around/],
  ['a regex with a back-reference', (c) => (route(c).paths = ['~/v1/(a)\\1']), `${R(0)}.paths[0]`, /back-references/],
  ['a regex that does not compile', (c) => (route(c).paths = ['~/v1/[']), `${R(0)}.paths[0]`, /not a valid regex/],
  ['a path without a leading /', (c) => (route(c).paths = ['v1']), `${R(0)}.paths[0]`, /must start with/],
  ['a regex path without ~/', (c) => (route(c).paths = ['~v1']), `${R(0)}.paths[0]`, /must start with/],
  ['format 2.1 with regex paths already marked ~ (Kong marks them again)', (c) => (c._format_version = '2.1'), `${R(0)}.paths[0]`, /'~~\/v1\/\?\$' must start with/],
  ['a route with a bad %-escape', (c) => (route(c).paths = ['/v1%zz']), `${R(0)}.paths[0]`, /% not followed by two hex digits/],
  ['an https route with no matcher', (c) => { delete route(c).paths; delete route(c).methods; delete route(c).hosts; }, R(0), /must set one of methods, hosts, headers, paths, snis/],
  ['protocols http and grpc together', (c) => (route(c).protocols = ['http', 'grpc']), `${R(0)}.protocols`, /exclude each other/],
  ['no protocols', (c) => (route(c).protocols = []), `${R(0)}.protocols`, /at least 1 element/],
  ['an https redirect of 303', (c) => (route(c).https_redirect_status_code = 303), `${R(0)}.https_redirect_status_code`, /one of 426, 301, 302, 307, 308/],
  ['a lower-case method', (c) => (route(c).methods = ['get']), `${R(0)}.methods[0]`, /upper-case/],
  ['a host with two wildcards', (c) => (route(c).hosts = ['*.example.*']), `${R(0)}.hosts[0]`, /at most one wildcard/],
  ['a wildcard in the middle of a host', (c) => (route(c).hosts = ['api.*.example.org']), `${R(0)}.hosts[0]`, /first or last label/],
  ['a route name with a space', (c) => (route(c).name = 'records search'), `${R(0)}.name`, /only letters, digits/],
  ['a service name with /', (c) => (c.services[0].name = 'records/v1'), 'services[0].name', /only letters, digits/],
  ['sources on an https route', (c) => (route(c).sources = [{ ip: '10.0.0.0/8' }]), `${R(0)}.sources`, /cannot be set when protocols are http or https/],
  ['snis on an http route', (c) => { route(c).protocols = ['http']; route(c).snis = ['api.example.org']; }, `${R(0)}.snis`, /only be set when protocols include/],
  ['a misspelt route field', (c) => (route(c).strip_pathh = false), `${R(0)}.strip_pathh`, /unknown field/],
  ['expression (only with the expressions router)', (c) => (route(c).expression = 'http.path == "/v1"'), `${R(0)}.expression`, /unknown field/],
  ['a regex_priority that is not an integer', (c) => (route(c).regex_priority = 'high'), `${R(0)}.regex_priority`, /must be an integer/],
  ['a boolean given as a string', (c) => (route(c).strip_path = 'false'), `${R(0)}.strip_path`, /must be a boolean/],

  // Services.
  ['negative retries', (c) => (c.services[0].retries = -1), 'services[0].retries', /between 0 and 32767/],
  ['a service path with //', (c) => (c.services[0].url = 'http://records:8000/v1//x'), 'services[0].path', /must not contain '\/\/'/],
  ['a service path with a space', (c) => { delete c.services[0].url; Object.assign(c.services[0], { host: 'records', path: '/a b' }); }, 'services[0].path', /RFC 3986/],
  ['a service host that is not a host', (c) => { delete c.services[0].url; c.services[0].host = 'records_$'; }, 'services[0].host', /not a host name/],
  ['a path on a grpc service', (c) => (c.services[0].url = 'grpc://records:8000/v1'), 'services[0].path', /must not be set when protocol is grpc/],

  // Names, keys and scopes across the file.
  ['two services with one name', (c) => c.services.push({ name: 'records', host: 'other' }), 'services[1].name', /already the name of services\[0\]/],
  ['two routes with one name', (c) => (route(c, 1).name = 'records-search'), `${R(1)}.name`, /already the name of services\[0\]\.routes\[0\]/],
  ['two consumers with one username', (c) => c.consumers.push({ username: 'identity-provider' }), 'consumers[1].username', /already the username/],
  ['two global plugins of one kind', (c) => c.plugins.push({ name: 'prometheus' }), `plugins[${base.plugins.length}].name`, /second prometheus plugin for the same scope as plugins\[/],
  ['the same plugin twice on one route', (c) => route(c).plugins.push({ name: 'jwt' }), `${R(0)}.plugins[2].name`, /second jwt plugin for the same scope as services\[0\]\.routes\[0\]\.plugins\[0\]/],
  ['a top-level plugin that repeats a nested one', (c) => c.plugins.push({ name: 'jwt', route: 'records-search' }), `plugins[${base.plugins.length}].name`, /second jwt plugin for the same scope as services\[0\]\.routes\[0\]\.plugins\[0\]/],
  ['a nested plugin naming its route', (c) => (route(c).plugins[0].route = 'records-search'), `${RP(0, 'jwt')}.route`, /nested/],
  ['a nested jwt secret naming its consumer', (c) => (secret(c).consumer = 'identity-provider'), `${SECRET}.consumer`, /nested/],
  ['a jwt plugin scoped to a consumer', (c) => c.plugins.push({ name: 'jwt', consumer: 'identity-provider' }), `plugins[${base.plugins.length}].consumer`, /cannot be scoped to a consumer/],
  ['a cors plugin scoped to a consumer', (c) => (c.consumers[0].plugins = [{ name: 'cors' }]), 'consumers[0].plugins[0]', /cors cannot be scoped to a consumer/],
  ['a plugin Kong does not load here', (c) => c.plugins.push({ name: 'acl', config: { allow: ['x'] } }), `plugins[${base.plugins.length}].name`, /not a loaded plugin/],
  ['a misspelt plugin name', (c) => c.plugins.push({ name: 'rate-limitting', config: {} }), `plugins[${base.plugins.length}].name`, /not a loaded plugin/],

  // jwt and its secrets.
  ['maximum_expiration with claims_to_verify [nbf]', (c) => (jwtConfig(c).claims_to_verify = ['nbf']), `${RP(0, 'jwt')}.config.claims_to_verify`, /must include exp/],
  ['maximum_expiration with claims_to_verify []', (c) => (jwtConfig(c).claims_to_verify = []), `${RP(0, 'jwt')}.config.claims_to_verify`, /must include exp/],
  ['maximum_expiration above a year', (c) => (jwtConfig(c).maximum_expiration = 31_536_001), `${RP(0, 'jwt')}.config.maximum_expiration`, /between 0 and 31536000/],
  ['a claim Kong cannot verify', (c) => (jwtConfig(c).claims_to_verify = ['exp', 'iat']), `${RP(0, 'jwt')}.config.claims_to_verify[1]`, /'iat' is not one of/],
  ['an RS256 secret without a key', (c) => delete secret(c).rsa_public_key, `${SECRET}.rsa_public_key`, /required for algorithm RS256/],
  ['a PS256 secret whose key does not parse', (c) => Object.assign(secret(c), { algorithm: 'PS256', rsa_public_key: 'garbage' }), `${SECRET}.rsa_public_key`, /parses/],
  ['an algorithm Kong does not have', (c) => (secret(c).algorithm = 'RS1'), `${SECRET}.algorithm`, /'RS1' is not one of/],
  ['an empty jwt secret', (c) => (secret(c).secret = ''), `${SECRET}.secret`, /must not be empty/],

  // rate-limiting.
  ['rate-limiting with no period', (c) => ['second', 'minute', 'hour'].forEach((period) => delete limits(c)[period]), RL, /at least one of second, minute, hour, day, month, year/],
  ['a limit of 0 per second', (c) => (limits(c).second = 0), `${RL}.second`, /greater than 0/],
  ['policy redis without a host', (c) => delete limits(c).redis.host, `${RL}.redis.host`, /required with policy redis/],
  ['policy redis with the port set to null', (c) => (limits(c).redis.port = null), `${RL}.redis.port`, /required/],
  ['limit_by header without header_name', (c) => (limits(c).limit_by = 'header'), `${RL}.header_name`, /required with limit_by header/],
  ['limit_by path without path', (c) => (limits(c).limit_by = 'path'), `${RL}.path`, /required with limit_by path/],
  ['a redis server_name that is an IP', (c) => (limits(c).redis.server_name = '10.0.0.1'), `${RL}.redis.server_name`, /IP address/],
  ['a redis port of 70000', (c) => (limits(c).redis.port = 70_000), `${RL}.redis.port`, /between 0 and 65535/],
  ['redis_host and redis.host that differ', (c) => (limits(c).redis_host = 'other.example.org'), `${RL}.redis_host`, /differs from .*redis\.host/],
  ['redis sentinel settings (Enterprise)', (c) => (limits(c).redis.sentinel_master = 'main'), `${RL}.redis.sentinel_master`, /unknown field/],

  // The other plugins.
  ['an opentelemetry sampling_rate of 1.5', (c) => (otel(c).sampling_rate = 1.5), `${OTEL}.sampling_rate`, /between 0 and 1/],
  ['default_format preserve', (c) => (otel(c).propagation.default_format = 'preserve'), `${OTEL}.propagation.default_format`, /'preserve' is not one of/],
  ['a traces_endpoint without a scheme', (c) => (otel(c).traces_endpoint = '//otel-collector:4318/v1/traces'), `${OTEL}.traces_endpoint`, /no scheme/],
  ['a traces_endpoint without a host', (c) => (otel(c).traces_endpoint = 'otel-collector:4318/v1/traces'), `${OTEL}.traces_endpoint`, /no host/],
  ['a resource attribute that is a number', (c) => (otel(c).resource_attributes['service.version'] = 1), `${OTEL}.resource_attributes.service.version`, /must be a string/],
  ['an empty resource attribute', (c) => (otel(c).resource_attributes['service.name'] = ''), `${OTEL}.resource_attributes.service.name`, /must not be empty/],
  ['an endpoint and a traces_endpoint that differ', (c) => (otel(c).endpoint = 'http://elsewhere:4318/v1/traces'), `${OTEL}.endpoint`, /differs from/],
  ['a header_type Kong does not have', (c) => (otel(c).header_type = 'instana'), `${OTEL}.header_type`, /'instana' is not one of/],
  ['a queue batch of 0', (c) => (otel(c).queue = { max_batch_size: 0 }), `${OTEL}.queue.max_batch_size`, /between 1 and 1000000/],
  ['a correlation-id generator uuid4', (c) => (global(c, 'correlation-id').generator = 'uuid4'), `${G('correlation-id')}.config.generator`, /not one of uuid, uuid#counter, tracker/],
  ['a size unit of gigabytes', (c) => (routePlugin(c, 2, 'request-size-limiting').size_unit = 'gigabytes'), `${RP(2, 'request-size-limiting')}.config.size_unit`, /not one of megabytes/],
  ['an added header without a colon', (c) => (global(c, 'response-transformer').add.headers = ['Strict-Transport-Security max-age=1']), `${G('response-transformer')}.config.add.headers[0]`, /name:value/],
  ['a header rename to a name with a space', (c) => (global(c, 'response-transformer').rename = { headers: ['X-A:X B'] }), `${G('response-transformer')}.config.rename.headers[0]`, /not a valid header name/],
  ['a CORS method any', (c) => (global(c, 'cors').methods = ['GET', 'any']), `${CORS}.methods[1]`, /'any' is not one of/],
  ['a CORS max_age that is not a number', (c) => (global(c, 'cors').max_age = 'soon'), `${CORS}.max_age`, /must be a number/],
  ['a prometheus flag given as a string', (c) => (global(c, 'prometheus').per_consumer = 'yes'), `${G('prometheus')}.config.per_consumer`, /must be a boolean/],
  ['a misspelt plugin field', (c) => (global(c, 'cors').origin = ['x']), `${CORS}.origin`, /unknown field/],
];

type Acceptance = [what: string, mutate: (config: any) => void];

/** What Kong 3.9.3 accepts (some of it deprecated, with a warning in its log). */
const ACCEPTED: Acceptance[] = [
  ['the staging config as generated', () => {}],
  ['the deprecated redis_* names in place of redis', (c) => {
    const redis = limits(c).redis;
    delete limits(c).redis;
    Object.assign(limits(c), { redis_host: redis.host, redis_port: redis.port, redis_password: redis.password, redis_database: redis.database, redis_timeout: redis.timeout, redis_ssl: redis.ssl, redis_ssl_verify: false, redis_username: 'kong', redis_server_name: 'valkey.data.svc.cluster.local' });
  }],
  ['a redis_host equal to redis.host', (c) => (limits(c).redis_host = limits(c).redis.host)],
  ['an empty redis_password', (c) => { delete limits(c).redis.password; limits(c).redis_password = ''; }],
  ['the deprecated opentelemetry endpoint', (c) => { otel(c).endpoint = otel(c).traces_endpoint; delete otel(c).traces_endpoint; }],
  ['opentelemetry endpoint equal to traces_endpoint', (c) => (otel(c).endpoint = otel(c).traces_endpoint)],
  ['the deprecated header_type, batch_span_count and batch_flush_delay', (c) => Object.assign(otel(c), { header_type: 'b3-single', batch_span_count: 200, batch_flush_delay: 3 })],
  ['b3-single in inject and as the default format', (c) => Object.assign(otel(c).propagation, { inject: ['preserve', 'b3-single'], default_format: 'b3-single' })],
  ['a logs_endpoint instead of a traces_endpoint', (c) => { otel(c).logs_endpoint = 'http://otel-collector:4318/v1/logs'; delete otel(c).traces_endpoint; }],
  ['a traces_endpoint of any scheme', (c) => (otel(c).traces_endpoint = 'grpc://otel-collector:4317')],
  ['a vault reference as traces_endpoint', (c) => (otel(c).traces_endpoint = '{vault://env/otel-endpoint}')],
  ['tags with spaces', (c) => (route(c).tags = ['records', 'public api', ' leading', 'trailing ', '   '])],
  ['non-ASCII tags', (c) => (route(c).tags = ['öffentlich', '公開'])],
  ['repeated tags', (c) => (route(c).tags = ['records', 'records', 'public'])],
  ['repeated methods and protocols', (c) => Object.assign(route(c), { methods: ['GET', 'GET', 'OPTIONS'], protocols: ['https', 'https'] })],
  ['repeated jwt header names and claims', (c) => Object.assign(jwtConfig(c), { header_names: ['authorization', 'authorization'], claims_to_verify: ['exp', 'exp'] })],
  ['repeated entries in arrays', (c) => { global(c, 'cors').origins = ['https://app.staging.example.org', 'https://app.staging.example.org']; route(c).paths = [route(c).paths[0], route(c).paths[0]]; }],
  ['a jwt secret without an algorithm (HS256)', (c) => { delete secret(c).algorithm; delete secret(c).rsa_public_key; }],
  ['a jwt secret without key or secret (Kong makes them)', (c) => { delete secret(c).key; delete secret(c).secret; }],
  ['an ES256 secret (its key is not read on load)', (c) => Object.assign(secret(c), { algorithm: 'ES256', rsa_public_key: EC_KEY })],
  ['an ES256 secret with a key that does not parse (Kong reads it only per request)', (c) => Object.assign(secret(c), { algorithm: 'ES256', rsa_public_key: 'garbage' })],
  ['top-level _comment and _ignore', (c) => Object.assign(c, { _comment: 'generated', _ignore: [{ anything: true }, 'x'] })],
  ['_comment and _ignore in entities', (c) => { c.services[0]._comment = 'the API'; route(c)._ignore = [1]; route(c).plugins[0]._comment = 'tokens'; secret(c)._comment = 'key'; }],
  ['non-ASCII service, route and plugin names', (c) => { c.services[0].name = 'café'; route(c).name = '路由'; route(c).plugins[0].instance_name = 'jwt-prüfung'; }],
  ['a consumer username with spaces, / and non-ASCII', (c) => (c.consumers[0].username = 'identity provider/ü')],
  ['a consumer with custom_id only', (c) => { delete c.consumers[0].username; c.consumers[0].custom_id = 'idp'; }],
  ['a regex path with ..', (c) => (route(c).paths = ['~/v1/..$'])],
  ['a regex path with a named group and a non-RFC 3986 character', (c) => (route(c).paths = ['~/v1/(?<id>[^/]+) x$'])],
  ['a plain path with a space and non-ASCII', (c) => (route(c).paths = ['/v1/a b', '/v1/ü'])],
  ['a plain path with an encoded reserved character', (c) => (route(c).paths = ['/v1%2Fbulk'])],
  ['a route host with a port', (c) => (route(c).hosts = ['api.staging.example.org:443'])],
  ['route hosts with wildcards, upper case and _', (c) => (route(c).hosts = ['*.example.org', 'api.example.*', 'API_1.Example.org'])],
  ['route headers other than Host', (c) => (route(c).headers = { 'X-Tenant': ['a', '~*b.*'] })],
  ['sync_rate 0.02 with redis', (c) => (limits(c).sync_rate = 0.02)],
  ['sync_rate -1', (c) => (limits(c).sync_rate = -1)],
  ['fractional limits and error code', (c) => Object.assign(limits(c), { second: 0.5, minute: 30.5, error_code: 429.5 })],
  ['equal limits in adjacent periods', (c) => Object.assign(limits(c), { second: 600, minute: 600 })],
  ['an empty redis password', (c) => (limits(c).redis.password = '')],
  ['a redis host that is an IP address', (c) => (limits(c).redis.host = '10.1.2.3')],
  ['a redis server_name ending in a dot', (c) => (limits(c).redis.server_name = 'valkey.data.svc.cluster.local.')],
  ['a negative redis database (no range)', (c) => (limits(c).redis.database = -1)],
  ['policy local without redis', (c) => { limits(c).policy = 'local'; delete limits(c).redis; }],
  ['limit_by header with a header name', (c) => Object.assign(limits(c), { limit_by: 'header', header_name: 'X-Client' })],
  ['CORS origins []', (c) => (global(c, 'cors').origins = [])],
  ['CORS origin *', (c) => (global(c, 'cors').origins = ['*'])],
  ['a CORS origin that is a regex', (c) => (global(c, 'cors').origins = ['https://.*\\.example\\.org'])],
  ['a negative CORS max_age (no range)', (c) => (global(c, 'cors').max_age = -1)],
  ['a negative allowed_payload_size (no range)', (c) => (routePlugin(c, 2, 'request-size-limiting').allowed_payload_size = -1)],
  ['maximum_expiration with claims_to_verify absent', (c) => delete jwtConfig(c).claims_to_verify],
  ['a plugin without config (defaults)', (c) => (route(c).plugins[0] = { name: 'jwt' })],
  ['a service given by host, port and protocol', (c) => { delete c.services[0].url; Object.assign(c.services[0], { host: 'records.records.svc.cluster.local', port: 8000, protocol: 'http' }); }],
  ['tls_verify on an https service', (c) => Object.assign(c.services[0], { url: 'https://records.records.svc.cluster.local:8443', tls_verify: true, tls_verify_depth: 2 })],
  ['a service with a path', (c) => (c.services[0].url = 'http://records:8000/api/v1')],
  ['a service timeout of 2^31-2', (c) => (c.services[0].read_timeout = 2 ** 31 - 2)],
  ['a top-level route and plugin referencing entities by name', (c) => {
    c.routes = [{ name: 'extra', service: 'records', paths: ['/extra'], protocols: ['https'] }];
    c.plugins.push({ name: 'rate-limiting', route: 'extra', config: { minute: 5 } });
  }],
  ['a top-level jwt secret for a consumer', (c) => (c.jwt_secrets = [{ consumer: 'identity-provider', key: 'hs-key', secret: 'shh' }])],
  ['a prometheus plugin on every protocol', (c) => (c.plugins[globalIndex('prometheus')].protocols = ['http', 'https', 'tcp', 'udp'])],
  ['format 1.1, regex paths written without ~', (c) => { c._format_version = '1.1'; for (const each of c.services[0].routes) each.paths = each.paths.map((path: string) => path.slice(1)); }],
  ['format 1.1, a plain path Kong normalizes on upgrade', (c) => {
    c._format_version = '1.1';
    for (const each of c.services[0].routes) each.paths = each.paths.map((path: string) => path.slice(1));
    route(c).paths = ['/v1/./records'];
  }],
  ['_transform false', (c) => (c._transform = false)],
  ['null for an optional field', (c) => (otel(c).sampling_rate = null)],
];

describe(`the project's model of Kong ${KONG_MODEL_VERSION}'s schemas (tests/support/kong-model)`, function () {
  it('models the Kong version kong/values.yaml deploys', function () {
    const image = parse(readFileSync('kong/values.yaml', 'utf8')).image;
    expect(`${image.repository}:${image.tag}`).to.equal(`kong:${KONG_MODEL_VERSION}`);
  });

  it('accepts both generated configs', function () {
    for (const environment of ['staging', 'production']) expect(problemsOf(parse(readFileSync(`kong/generated/${environment}/kong.yaml`, 'utf8'))), environment).to.deep.equal([]);
  });

  it('leaves the config it checks unchanged (defaults and shorthands are applied to a copy)', function () {
    const config = mutated((c) => { limits(c).redis_host = limits(c).redis.host; delete limits(c).redis.host; });
    const before = structuredClone(config);
    problemsOf(config);
    expect(config).to.deep.equal(before);
  });

  describe(`refuses what Kong ${KONG_MODEL_VERSION} refuses, naming the field (${REFUSED.length} cases)`, function () {
    for (const [what, mutate, field, message] of REFUSED) {
      it(what, function () {
        const problems = problemsOf(mutated(mutate));
        const named = problems.filter((problem) => problem.startsWith(`${field}: `));
        expect(named, `no problem names ${field}; found:\n${problems.join('\n')}`).to.not.deep.equal([]);
        expect(named.join('\n')).to.match(message);
      });
    }
  });

  describe(`accepts what Kong ${KONG_MODEL_VERSION} accepts (${ACCEPTED.length} cases)`, function () {
    for (const [what, mutate] of ACCEPTED) {
      it(what, function () {
        expect(problemsOf(mutated(mutate))).to.deep.equal([]);
      });
    }
  });
});
