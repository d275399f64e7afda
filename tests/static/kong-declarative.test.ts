import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { parse } from 'yaml';
import { DEFAULT_BODY_LIMIT_BYTES, loadConfig } from '../../service/src/api/config.js';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { generatedPath, readEnvironment, renderConfig, renderValues, seedKeys } from '../../tooling/kong-config.js';
import { configOf, loadedPlugins, pluginOf, routesOf, valuesOf, type Route } from '../support/kong-generated.js';
import { KONG_MODEL_VERSION, kongModelProblems, MODELLED_PLUGINS } from '../support/kong-model/index.js';
import { upstreamDefaults } from '../support/tools.js';

/** Plugins bundled with Kong OSS 3.9 (kong/constants.lua); anything else would need a custom image. */
const KONG_OSS_39_BUNDLED = new Set([
  'jwt', 'acl', 'correlation-id', 'cors', 'oauth2', 'tcp-log', 'udp-log', 'file-log', 'http-log', 'key-auth', 'hmac-auth',
  'basic-auth', 'ip-restriction', 'request-transformer', 'response-transformer', 'request-size-limiting', 'rate-limiting',
  'response-ratelimiting', 'syslog', 'loggly', 'datadog', 'ldap-auth', 'statsd', 'bot-detection', 'aws-lambda',
  'request-termination', 'prometheus', 'proxy-cache', 'session', 'acme', 'grpc-gateway', 'grpc-web', 'pre-function',
  'post-function', 'azure-functions', 'zipkin', 'opentelemetry', 'ai-proxy', 'ai-prompt-decorator', 'ai-prompt-template',
  'ai-prompt-guard', 'ai-request-transformer', 'ai-response-transformer', 'standard-webhooks', 'redirect',
]);
const RATE_PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'];

for (const environment of ENVIRONMENTS) {
  describe(`Kong declarative configuration for ${environment} (kong/generated/${environment})`, function () {
    this.timeout(30_000);
    const settings = readEnvironment(environment);
    const kong = configOf(environment);
    const routes = routesOf(kong);

    it('is what the generator makes from kong/kong.yaml and kong/environments/', function () {
      const config = renderConfig(settings);
      expect(readFileSync(generatedPath(environment, 'kong.yaml'), 'utf8'), 'run make kong-config').to.equal(config);
      expect(readFileSync(generatedPath(environment, 'values.yaml'), 'utf8'), 'run make kong-config').to.equal(renderValues(settings, config));
      expect(valuesOf(environment).dblessConfig.config).to.equal(config);
    });

    it(`is accepted by the project's model of Kong ${KONG_MODEL_VERSION}'s schemas: every field of every entity and plugin, and the checks across the file`, function () {
      expect(kongModelProblems(kong, loadedPlugins())).to.deep.equal([]);
      const used = new Set([...kong.plugins, ...routes.flatMap((route) => route.plugins ?? [])].map((plugin) => plugin.name));
      expect([...used].filter((name) => !MODELLED_PLUGINS.includes(name)), 'plugins the model has no schema for').to.deep.equal([]);
    });

    it('sends traces in the service\'s propagation format (W3C) to this environment\'s collector', function () {
      const plugin = kong.plugins.find((candidate) => candidate.name === 'opentelemetry');
      expect(plugin?.config.propagation).to.deep.equal({ extract: ['w3c'], inject: ['w3c'], default_format: 'w3c' });
      expect(plugin?.config.traces_endpoint).to.equal(settings.tracing.tracesEndpoint);
      expect(plugin?.config.traces_endpoint).to.match(/\/v1\/traces$/);
      expect(plugin?.config.sampling_rate).to.be.within(0, 1);
      const env = parse(readFileSync('kong/values.yaml', 'utf8')).env;
      expect(env.plugins.split(','), 'loaded').to.include('opentelemetry');
      expect(env.tracing_instrumentations, 'Kong makes the request span').to.equal('request');
    });

    it('serves HTTPS on this environment\'s hosts, redirects HTTP with 308, keeps the path, allows OPTIONS', function () {
      for (const route of routes) {
        expect(route.protocols, route.name).to.deep.equal(['https']);
        expect(route.https_redirect_status_code, route.name).to.equal(308);
        expect(route.hosts, route.name).to.deep.equal(settings.hosts);
        expect(route.strip_path, route.name).to.equal(false);
        if (route.name !== 'records-docs') expect(route.methods, route.name).to.include('OPTIONS');
      }
    });

    it('sends HSTS on every response', function () {
      const transformer = kong.plugins.find((plugin) => plugin.name === 'response-transformer');
      const hsts = (transformer?.config.add.headers as string[]).find((header) => header.startsWith('Strict-Transport-Security:'));
      expect(Number(/max-age=(\d+)/.exec(hsts ?? '')?.[1])).to.be.at.least(31_536_000);
    });

    it('checks tokens with jwt on every public route: exp required, nbf left to the service, 24 h 5 min at most', function () {
      for (const route of routes.filter((candidate) => candidate.name !== 'records-docs')) {
        const jwt = pluginOf(route, 'jwt');
        expect(jwt?.config, route.name).to.deep.include({ uri_param_names: [], cookie_names: [], key_claim_name: 'kid', claims_to_verify: ['exp'], maximum_expiration: 86_700 });
        expect(jwt?.config.anonymous ?? null, 'no anonymous consumer').to.equal(null);
      }
    });

    it('rate-limits every route per client IP through this environment\'s Redis, with ordered periods and a stricter bulk limit', function () {
      const limits = (route: Route) => pluginOf(route, 'rate-limiting')?.config ?? {};
      for (const route of routes) {
        const config = limits(route);
        expect(config.policy, route.name).to.equal('redis');
        expect(config.limit_by, route.name).to.equal('ip');
        expect(config.redis, route.name).to.include(settings.rateLimitRedis);
        const values = RATE_PERIODS.filter((period) => config[period] !== undefined).map((period) => config[period] as number);
        expect(values.length, route.name).to.be.greaterThan(0);
        expect(values, `${route.name}: limits per longer periods are larger`).to.deep.equal([...values].sort((a, b) => a - b));
      }
      const bulk = limits(routes.find((route) => route.name === 'records-bulk') as Route);
      for (const route of routes.filter((route) => route.name !== 'records-bulk')) expect(bulk.minute).to.be.below(limits(route).minute);
      if (environment === 'production') expect(settings.rateLimitRedis).to.include({ port: 6380, ssl: true, ssl_verify: true });
      else {
        // Staging's Valkey, as its chart names the Service in namespace data.
        const valkey = upstreamDefaults('valkey').find((object) => object.kind === 'Service');
        expect(settings.rateLimitRedis.host).to.equal(`${valkey?.metadata.name}.data.svc.cluster.local`);
        expect(settings.rateLimitRedis.port).to.equal(valkey?.spec.ports[0].port);
      }
    });

    it('limits request bodies to no more than the service accepts', function () {
      const bulk = routes.find((route) => route.name === 'records-bulk') as Route;
      const config = pluginOf(bulk, 'request-size-limiting')?.config ?? {};
      const unit = { bytes: 1, kilobytes: 2 ** 10, megabytes: 2 ** 20 }[config.size_unit as string] ?? NaN;
      const kongLimit = config.allowed_payload_size * unit;
      expect(kongLimit).to.be.at.most(DEFAULT_BODY_LIMIT_BYTES);
      const chartValues = parse(readFileSync('charts/records/values.yaml', 'utf8'));
      expect(kongLimit).to.be.at.most(loadConfig({ BODY_LIMIT: chartValues.config.bodyLimit }).bodyLimit);
    });

    it('uses only plugins bundled with Kong OSS 3.9 and loaded by kong/values.yaml', function () {
      const used = [...kong.plugins, ...routes.flatMap((route) => route.plugins ?? [])].map((plugin) => plugin.name);
      expect(used.filter((name) => !KONG_OSS_39_BUNDLED.has(name))).to.deep.equal([]);
      const loaded = String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');
      expect([...new Set(used)].filter((name) => !loaded.includes(name)), 'plugins used but not loaded').to.deep.equal([]);
    });

    it('checks the token of every OPTIONS request but CORS preflights, which cors answers first (Kong 3.9.3 as read: jwt skipped any OPTIONS with run_on_preflight false)', function () {
      // cors (priority 2000) exits with 200 on a preflight (Origin and Access-Control-Request-Method)
      // unless preflight_continue; jwt (1450) runs after it: kong/plugins/{cors,jwt}/handler.lua.
      const global = Object.fromEntries(kong.plugins.map((plugin) => [plugin.name, plugin.config]));
      expect(global.cors?.preflight_continue).to.equal(false);
      const withJwt = routes.filter((route) => pluginOf(route, 'jwt'));
      expect(withJwt.length).to.be.greaterThan(0);
      for (const route of withJwt) expect(pluginOf(route, 'jwt')?.config.run_on_preflight, route.name).to.equal(true);
    });

    it('refuses to render an environment without CORS origins (Kong\'s cors allows every origin for an empty list)', function () {
      for (const corsOrigins of [[], undefined]) {
        expect(() => renderConfig({ ...settings, corsOrigins } as never)).to.throw(/corsOrigins/);
      }
    });

    it('sets X-Request-ID, this environment\'s CORS origins and latency/status metrics globally', function () {
      const global = Object.fromEntries(kong.plugins.map((plugin) => [plugin.name, plugin.config]));
      expect(global['correlation-id']).to.include({ header_name: 'X-Request-ID', echo_downstream: true });
      expect(global.cors?.origins).to.deep.equal(settings.corsOrigins);
      expect(global.cors?.origins).not.to.include('*');
      expect(global.prometheus).to.include({ status_code_metrics: true, latency_metrics: true });
    });

    it('has one consumer per trusted issuer, seeded with keys that match their JWKS', function () {
      expect(kong.consumers.map((consumer) => consumer.username)).to.deep.equal(settings.issuers.map((issuer) => issuer.consumer).sort());
      for (const consumer of kong.consumers) {
        const issuer = settings.issuers.find((candidate) => candidate.consumer === consumer.username);
        const jwks = { keys: seedKeys(issuer!.seed) as unknown as Array<Record<string, string>> };
        expect(consumer.jwt_secrets.length).to.equal(jwks.keys.length);
        for (const secret of consumer.jwt_secrets) {
          const exported = createPublicKey(secret.rsa_public_key).export({ format: 'jwk' }) as Record<string, string>;
          const jwk = jwks.keys.find((candidate) => candidate.kid === secret.key);
          for (const member of jwk?.kty === 'RSA' ? ['n', 'e'] : ['x', 'y', 'crv']) expect(exported[member]).to.equal(jwk?.[member]);
          expect(secret.algorithm).to.equal(jwk?.alg);
        }
      }
    });
  });
}

describe('Kong seed keys per environment', function () {
  it('seeds each environment from keys of its own (one shared file let a freshly started Kong admit the other environment\'s keys for an overlap)', function () {
    const seeds = ENVIRONMENTS.flatMap((environment) => readEnvironment(environment).issuers.map((issuer) => ({ environment, ...issuer, keys: seedKeys(issuer.seed) })));
    for (const seed of seeds) {
      expect(seed.seed.startsWith(`${seed.environment}/`), `${seed.environment}: ${seed.seed} under kong/keys/${seed.environment}/`).to.equal(true);
      for (const other of seeds.filter((candidate) => candidate.environment !== seed.environment && candidate.jwksUri !== seed.jwksUri)) {
        const shared = seed.keys.filter((key) => other.keys.some((candidate) => candidate.kid === key.kid || (key.n !== undefined && candidate.n === key.n)));
        expect(shared.map((key) => key.kid), `${seed.environment} and ${other.environment} seed the same keys`).to.deep.equal([]);
      }
    }
  });
});
