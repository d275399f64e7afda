import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Middleware } from 'koa';
import { parse } from 'yaml';
import { DEFAULT_BODY_LIMIT_BYTES, loadConfig } from '../service/src/config.js';
import type { RecordsService } from '../service/src/domain/records-service.js';
import { loadOpenApi } from '../service/src/http/docs-router.js';
import { createRecordsRouter } from '../service/src/http/records-router.js';
import { consumersFromKeys, DECLARATIVE_VALUES, KONG_CONFIG, renderDeclarativeValues, renderKongConfig } from '../scripts/kong-config.js';
import { helmTemplate } from './support/tools.js';

type Plugin = { name: string; config: Record<string, any> };
type Route = { name: string; paths: string[]; methods: string[]; protocols: string[]; strip_path?: boolean; plugins?: Plugin[] };
type KongConfig = {
  _format_version: string;
  services: Array<{ name: string; url: string; routes: Route[]; plugins?: Plugin[] }>;
  plugins: Plugin[];
  consumers: Array<{ username: string; jwt_secrets: Array<{ key: string; algorithm: string; rsa_public_key: string }> }>;
};

const kong = parse(readFileSync(KONG_CONFIG, 'utf8')) as KongConfig;
const routes = kong.services.flatMap((service) => service.routes);
const pluginOf = (route: Route, name: string) => (route.plugins ?? []).find((plugin) => plugin.name === name);

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

/** Kong's matching: regex paths (`~`) are anchored at the start, plain paths are prefixes. */
function pathMatches(pattern: string, path: string): boolean {
  return pattern.startsWith('~') ? new RegExp(`^${pattern.slice(1)}`).test(path) : path.startsWith(pattern);
}
function kongRoutesFor(method: string, path: string): Route[] {
  return routes.filter((route) => route.methods.includes(method) && route.paths.some((pattern) => pathMatches(pattern, path)));
}

describe('Kong declarative configuration (kong/kong.yaml)', function () {
  this.timeout(30_000);

  it('passes deck validate, which rejects a broken file', function () {
    const ok = spawnSync('deck', ['validate', '-s', KONG_CONFIG], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).to.equal(0);
    const dir = mkdtempSync(join(tmpdir(), 'kong-'));
    try {
      writeFileSync(join(dir, 'broken.yaml'), readFileSync(KONG_CONFIG, 'utf8').replace('strip_path: false', 'strip_pathh: false'));
      const broken = spawnSync('deck', ['validate', '-s', join(dir, 'broken.yaml')], { encoding: 'utf8' });
      expect(broken.status).not.to.equal(0);
      expect(broken.stderr + broken.stdout).to.contain('strip_pathh');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has consumers exactly as the generator makes them from kong/keys', function () {
    const current = readFileSync(KONG_CONFIG, 'utf8');
    expect(renderKongConfig(current, consumersFromKeys()), 'run make kong-config').to.equal(current);
  });

  it('is what kong/declarative-values.yaml gives the Kong chart', function () {
    const current = readFileSync(KONG_CONFIG, 'utf8');
    expect(readFileSync(DECLARATIVE_VALUES, 'utf8'), 'run make kong-config').to.equal(renderDeclarativeValues(current));
    expect(parse(readFileSync(DECLARATIVE_VALUES, 'utf8')).dblessConfig.config).to.equal(current);
  });

  it('notices when a key is added to kong/keys without regenerating', function () {
    const dir = mkdtempSync(join(tmpdir(), 'kong-keys-'));
    try {
      for (const file of ['identity-provider.jwks.json', 'reports-service.jwks.json']) copyFileSync(`kong/keys/${file}`, join(dir, file));
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, 'new-caller.jwks.json'), JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'n1', alg: 'ES256' }] }));
      const current = readFileSync(KONG_CONFIG, 'utf8');
      expect(renderKongConfig(current, consumersFromKeys(dir))).not.to.equal(current);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses format 3.0 and unique names', function () {
    expect(kong._format_version).to.equal('3.0');
    const names = [...kong.services.map((s) => `service:${s.name}`), ...routes.map((r) => `route:${r.name}`), ...kong.consumers.map((c) => `consumer:${c.username}`)];
    expect(new Set(names).size).to.equal(names.length);
    for (const route of routes) {
      const plugins = (route.plugins ?? []).map((plugin) => plugin.name);
      expect(new Set(plugins).size, route.name).to.equal(plugins.length);
    }
    const global = kong.plugins.map((plugin) => plugin.name);
    expect(new Set(global).size).to.equal(global.length);
  });

  it('has paths that start with / or ~/ and regexes that compile', function () {
    for (const route of routes) {
      for (const path of route.paths) {
        expect(path, route.name).to.match(/^(\/|~\/)/);
        if (path.startsWith('~')) expect(() => new RegExp(path.slice(1)), path).not.to.throw();
      }
    }
  });

  it('routes over HTTPS only, keeps the path, and allows OPTIONS for CORS', function () {
    for (const route of routes) {
      expect(route.protocols, route.name).to.deep.equal(['https']);
      expect(route.strip_path, route.name).to.equal(false);
      expect(route.methods, route.name).to.include('OPTIONS');
    }
  });

  it('puts the jwt plugin with the required settings on every public route', function () {
    for (const route of routes) {
      const jwt = pluginOf(route, 'jwt');
      expect(jwt, route.name).to.not.equal(undefined);
      expect(jwt?.config).to.deep.include({ uri_param_names: [], cookie_names: [], key_claim_name: 'kid', claims_to_verify: ['exp', 'nbf'] });
      expect(jwt?.config.maximum_expiration).to.be.within(60, 86_400);
      expect(jwt?.config.anonymous ?? null, 'no anonymous consumer').to.equal(null);
    }
  });

  it('rate-limits every route per client IP through Redis, with ordered periods and a stricter bulk limit', function () {
    const limits = (route: Route) => pluginOf(route, 'rate-limiting')?.config ?? {};
    for (const route of routes) {
      const config = limits(route);
      expect(config.policy, route.name).to.equal('redis');
      expect(config.limit_by, route.name).to.equal('ip');
      expect(config.redis).to.include.keys('host', 'port', 'timeout', 'database');
      expect(config.redis.host).to.be.a('string').and.not.equal('');
      const values = RATE_PERIODS.filter((period) => config[period] !== undefined).map((period) => config[period] as number);
      expect(values.length, route.name).to.be.greaterThan(0);
      expect(values, `${route.name}: limits per longer periods are larger`).to.deep.equal([...values].sort((a, b) => a - b));
    }
    const bulk = limits(routes.find((route) => route.name === 'records-bulk') as Route);
    for (const route of routes.filter((route) => route.name !== 'records-bulk')) {
      expect(bulk.minute).to.be.below(limits(route).minute);
    }
  });

  it('limits request bodies to no more than the service accepts', function () {
    const bulk = routes.find((route) => route.name === 'records-bulk') as Route;
    const config = pluginOf(bulk, 'request-size-limiting')?.config ?? {};
    const unit = { bytes: 1, kilobytes: 2 ** 10, megabytes: 2 ** 20 }[config.size_unit as string] ?? NaN;
    const kongLimit = config.allowed_payload_size * unit;
    expect(kongLimit).to.be.at.most(DEFAULT_BODY_LIMIT_BYTES);
    const chartValues = parse(readFileSync('charts/records/values.yaml', 'utf8'));
    const chartLimit = loadConfig({ BODY_LIMIT: chartValues.config.bodyLimit }).bodyLimit;
    expect(kongLimit).to.be.at.most(chartLimit);
  });

  it('uses only plugins bundled with Kong OSS 3.9', function () {
    const used = [...kong.plugins, ...routes.flatMap((route) => route.plugins ?? [])].map((plugin) => plugin.name);
    expect(used.filter((name) => !KONG_OSS_39_BUNDLED.has(name))).to.deep.equal([]);
    const loaded = String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');
    expect([...new Set(used)].filter((name) => !loaded.includes(name)), 'plugins used but not loaded by kong/values.yaml').to.deep.equal([]);
  });

  it('sets X-Request-ID, explicit CORS origins and latency/status metrics globally', function () {
    const global = Object.fromEntries(kong.plugins.map((plugin) => [plugin.name, plugin.config]));
    expect(global['correlation-id']).to.include({ header_name: 'X-Request-ID', echo_downstream: true });
    expect(global.cors?.origins).to.be.an('array').with.length.greaterThan(0);
    expect(global.cors?.origins).not.to.include('*');
    expect(global.prometheus).to.include({ status_code_metrics: true, latency_metrics: true });
  });

  it('has consumer keys that load as public keys and match the JWKS they came from', function () {
    for (const consumer of kong.consumers) {
      const jwks = JSON.parse(readFileSync(`kong/keys/${consumer.username}.jwks.json`, 'utf8')) as { keys: Array<Record<string, string>> };
      expect(consumer.jwt_secrets.length).to.equal(jwks.keys.length);
      for (const secret of consumer.jwt_secrets) {
        const key = createPublicKey(secret.rsa_public_key);
        expect(key.type).to.equal('public');
        const jwk = jwks.keys.find((candidate) => candidate.kid === secret.key);
        expect(jwk, `${consumer.username}/${secret.key}`).to.not.equal(undefined);
        const exported = key.export({ format: 'jwk' }) as Record<string, string>;
        for (const member of jwk?.kty === 'RSA' ? ['n', 'e'] : ['x', 'y', 'crv']) expect(exported[member]).to.equal(jwk?.[member]);
        expect(secret.algorithm).to.equal(jwk?.alg);
        expect(['RS256', 'ES256']).to.include(secret.algorithm);
      }
    }
  });

  describe('route coverage, read from the service router', function () {
    const router = createRecordsRouter({
      records: {} as RecordsService,
      bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
      authenticate: (async (_ctx, next) => next()) as Middleware,
    });
    const operations = router.stack.flatMap((layer) =>
      layer.methods.filter((method) => method !== 'HEAD').map((method) => ({ method, template: String(layer.path) })),
    );
    const examplePaths = (template: string) => {
      const path = template.replace(/:[a-z]+/g, '12345');
      return path === '/v1' ? ['/v1', '/v1/'] : [path];
    };

    it('finds the operations the service exposes under /v1', function () {
      expect(operations.map((op) => `${op.method} ${op.template}`).sort()).to.deep.equal(['GET /v1', 'GET /v1/:id', 'POST /v1/bulk']);
    });

    it('routes every service operation through exactly one Kong route with jwt and rate limiting', function () {
      for (const { method, template } of operations) {
        for (const path of examplePaths(template)) {
          const matching = kongRoutesFor(method, path);
          expect(matching.map((route) => route.name), `${method} ${path}`).to.have.length(1);
          expect(pluginOf(matching[0] as Route, 'jwt')).to.not.equal(undefined);
          expect(pluginOf(matching[0] as Route, 'rate-limiting')).to.not.equal(undefined);
        }
      }
      expect(pluginOf(kongRoutesFor('POST', '/v1/bulk')[0] as Route, 'request-size-limiting')).to.not.equal(undefined);
    });

    it('routes nothing the service does not serve', function () {
      for (const route of routes) {
        for (const method of route.methods.filter((m) => m !== 'OPTIONS')) {
          for (const pattern of route.paths) {
            const sample = pattern.startsWith('~') ? pattern.slice(1).replace('[^/]+', '12345').replace(/[?$^]/g, '') : pattern;
            expect(pathMatches(pattern, sample), `${pattern} sample ${sample}`).to.equal(true);
            expect(router.match(sample, method).route, `${method} ${sample} (${route.name})`).to.equal(true);
          }
        }
      }
    });

    it('routes every operation of the OpenAPI contract', function () {
      const spec = loadOpenApi() as { paths: Record<string, Record<string, unknown>> };
      const operations = Object.entries(spec.paths).flatMap(([path, item]) => Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })));
      expect(operations.length).to.equal(3);
      for (const { method, path } of operations) {
        const sample = path.replace(/\{[^}]+\}/g, '12345');
        expect(kongRoutesFor(method, sample).map((route) => route.name), `${method} ${path}`).to.have.length(1);
      }
    });

    it('does not route health, readiness, metrics or the service JWKS', function () {
      for (const path of ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json', '/v1/../metrics', '/openapi.json', '/docs']) {
        for (const method of ['GET', 'POST']) expect(kongRoutesFor(method, path), `${method} ${path}`).to.deep.equal([]);
      }
    });
  });

  it('points the Kong service at the chart\'s Service for the default release', function () {
    const objects = helmTemplate([], [], 'records', 'records');
    const service = objects.find((object) => object.kind === 'Service' && object.metadata.name === 'records');
    expect(kong.services[0]?.url).to.equal(`http://${service?.metadata.name}.records.svc.cluster.local:${service?.spec.ports[0].port}`);
  });

  it('admits Kong\'s namespace in the chart\'s NetworkPolicy', function () {
    const values = parse(readFileSync('kong/values.yaml', 'utf8'));
    expect(values.ingressController.enabled).to.equal(false);
    const policy = helmTemplate().find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'records');
    const namespaces = policy?.spec.ingress.flatMap((rule: any) => (rule.from ?? []).map((from: any) => from.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']));
    expect(namespaces).to.include(parse(readFileSync('charts/records/values.yaml', 'utf8')).networkPolicy.kongNamespace);
  });
});

describe('Kong chart values (kong/values.yaml)', function () {
  const values = parse(readFileSync('kong/values.yaml', 'utf8'));

  it('runs Kong OSS 3.9 DB-less from the declarative config, without the ingress controller or Admin API', function () {
    expect(values.image.repository).to.equal('kong');
    expect(String(values.image.tag)).to.match(/^3\.9\.\d+$/);
    expect(values.env.database).to.equal('off');
    expect(values.dblessConfig.configMap, 'the config comes from declarative-values.yaml').to.equal('');
    expect(values.ingressController.enabled).to.equal(false);
    expect(values.admin.enabled).to.equal(false);
  });

  it('documents real-IP handling, exposes status for metrics, and is resilient', function () {
    expect(values.env.trusted_ips).to.be.a('string').and.not.equal('');
    expect(values.env.real_ip_header).to.equal('X-Forwarded-For');
    expect(values.status.enabled).to.equal(true);
    expect(values.proxy.type).to.equal('LoadBalancer');
    expect(values.podDisruptionBudget.enabled).to.equal(true);
    expect(values.autoscaling.enabled).to.equal(true);
    expect(values.autoscaling.minReplicas).to.be.at.least(2);
    expect(values.resources.requests).to.include.keys('cpu', 'memory');
    expect(values.resources.limits).to.include.keys('cpu', 'memory');
  });
});
