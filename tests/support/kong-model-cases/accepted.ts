import { EC_KEY, global, globalIndex, jwtConfig, limits, otel, route, routePlugin, secret } from './staging.js';

type Acceptance = [what: string, mutate: (config: any) => void];

/** What Kong 3.9.3 accepts (some of it deprecated, with a warning in its log). */
export const ACCEPTED: Acceptance[] = [
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
