import { createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { createTokenVerifier } from '../../service/src/api/auth/token-verifier.js';
import { DEFAULT_BODY_LIMIT_BYTES, loadConfig } from '../../service/src/api/config.js';
import { loadOpenApi } from '../../service/src/api/http/docs-router.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { generatedPath, readEnvironment, renderConfig, renderValues } from '../../tooling/kong-config.js';
import { unknownFieldsOf, validateAll } from '../support/k8s-schema.js';
import { KONG_MODEL_VERSION, kongModelProblems, MODELLED_PLUGINS } from '../support/kong-model/index.js';
import { normalizePath } from '../support/kong-model/paths.js';
import { helmTemplate, kongRender, throughTpl, upstreamDefaults, type K8sObject } from '../support/tools.js';
import { chartPin, mirrorFile } from '../../tooling/upstream-mirror.js';

type Plugin = { name: string; config: Record<string, any> };
type Route = { name: string; paths: string[]; methods: string[]; protocols: string[]; hosts?: string[]; strip_path?: boolean; https_redirect_status_code?: number; plugins?: Plugin[] };
type KongConfig = {
  _format_version: string;
  services: Array<{ name: string; url: string; routes: Route[]; plugins?: Plugin[] }>;
  plugins: Plugin[];
  consumers: Array<{ username: string; jwt_secrets: Array<{ key: string; algorithm: string; rsa_public_key: string }> }>;
};

const configOf = (environment: string) => parse(readFileSync(generatedPath(environment, 'kong.yaml'), 'utf8')) as KongConfig;
const valuesOf = (environment: string) => parse(readFileSync(generatedPath(environment, 'values.yaml'), 'utf8'));
const routesOf = (kong: KongConfig) => kong.services.flatMap((service) => service.routes);
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
const loadedPlugins = () => String(parse(readFileSync('kong/values.yaml', 'utf8')).env.plugins).split(',');

/**
 * Kong's documented path rule: a plain path matches as a prefix, a `~` path as a regex anchored at
 * the start only. Not a model of Kong's router (no priorities): the coverage tests below only need
 * each operation to reach exactly one route, so no priority decides between two.
 */
function kongDocumentedPathRule(pattern: string, path: string): boolean {
  return pattern.startsWith('~') ? new RegExp(`^${pattern.slice(1)}`).test(path) : path.startsWith(pattern);
}
/** The routes a request reaches by method and path; Kong matches the path in its normal form (no `..`, no `//`). */
const kongRoutesFor = (routes: Route[], method: string, path: string) =>
  routes.filter((route) => route.methods.includes(method) && route.paths.some((pattern) => kongDocumentedPathRule(pattern, normalizePath(path))));

/**
 * The project's model of the jwt plugin's documented time rule (Kong's handler cannot run here, and
 * the schema model says nothing about requests): each claim in claims_to_verify must be present and
 * hold (exp after now, nbf not after now), and exp may lie at most maximum_expiration ahead.
 */
function jwtTimeRuleModel(config: Record<string, any>, claims: { exp?: number; nbf?: number; iat?: number }, now: number): boolean {
  const verify: string[] = config.claims_to_verify ?? [];
  if (verify.includes('exp') && (typeof claims.exp !== 'number' || claims.exp <= now)) return false;
  if (verify.includes('nbf') && (typeof claims.nbf !== 'number' || claims.nbf > now)) return false;
  return !(config.maximum_expiration > 0 && (claims.exp ?? Infinity) - now > config.maximum_expiration);
}

/** The operations of the API contract (service/openapi.yaml), as method and path template. */
function contractOperations(): Array<{ method: string; template: string }> {
  const spec = loadOpenApi() as { paths: Record<string, Record<string, unknown>> };
  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  return Object.entries(spec.paths).flatMap(([template, item]) => Object.keys(item).filter((key) => METHODS.includes(key)).map((method) => ({ method: method.toUpperCase(), template })));
}
/** A request path for a template: each parameter as a sample value that is no literal segment. */
const examplePath = (template: string) => template.replace(/\{[^}]+\}/g, '12345');

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
        const jwks = JSON.parse(readFileSync(`kong/keys/${issuer?.seed}`, 'utf8')) as { keys: Array<Record<string, string>> };
        expect(consumer.jwt_secrets.length).to.equal(jwks.keys.length);
        for (const secret of consumer.jwt_secrets) {
          const exported = createPublicKey(secret.rsa_public_key).export({ format: 'jwk' }) as Record<string, string>;
          const jwk = jwks.keys.find((candidate) => candidate.kid === secret.key);
          for (const member of jwk?.kty === 'RSA' ? ['n', 'e'] : ['x', 'y', 'crv']) expect(exported[member]).to.equal(jwk?.[member]);
          expect(secret.algorithm).to.equal(jwk?.alg);
        }
      }
    });

    describe('route coverage, derived from the config and the API contract', function () {
      const operations = contractOperations();
      const routeOf = (method: string, template: string) => kongRoutesFor(routes, method, examplePath(template));

      it('finds the operations of service/openapi.yaml (the contract tests hold the service to it)', function () {
        expect(operations.map(({ method, template }) => `${method} ${template}`).sort()).to.deep.equal(['GET /v1/', 'GET /v1/{id}', 'POST /v1/bulk']);
      });

      it('routes every operation through exactly one Kong route, with jwt and rate limiting', function () {
        for (const { method, template } of operations) {
          const matching = routeOf(method, template);
          expect(matching.map((route) => route.name), `${method} ${template}`).to.have.length(1);
          expect(pluginOf(matching[0] as Route, 'jwt'), `${method} ${template}`).to.not.equal(undefined);
          expect(pluginOf(matching[0] as Route, 'rate-limiting'), `${method} ${template}`).to.not.equal(undefined);
        }
        expect(pluginOf(routeOf('POST', '/v1/bulk')[0] as Route, 'request-size-limiting')).to.not.equal(undefined);
      });

      it('has no Kong route that no operation reaches (other than the docs)', function () {
        const reached = new Set(operations.flatMap(({ method, template }) => routeOf(method, template).map((route) => route.name)));
        expect(routes.map((route) => route.name).filter((name) => name !== 'records-docs' && !reached.has(name))).to.deep.equal([]);
      });

      it('does not route health, readiness, metrics, the JWKS or the docs unless exposeDocs says so', function () {
        for (const path of ['/healthz', '/readyz', '/metrics', '/.well-known/jwks.json', '/v1/../metrics']) {
          for (const method of ['GET', 'POST']) expect(kongRoutesFor(routes, method, path), `${method} ${path}`).to.deep.equal([]);
        }
        for (const path of ['/openapi.json', '/docs']) expect(kongRoutesFor(routes, 'GET', path).length, path).to.equal(settings.exposeDocs ? 1 : 0);
        const exposed = parse(renderConfig({ ...settings, exposeDocs: true })) as KongConfig;
        const docs = kongRoutesFor(routesOf(exposed), 'GET', '/docs');
        expect(docs.map((route) => route.name)).to.deep.equal(['records-docs']);
        expect(pluginOf(docs[0] as Route, 'jwt'), 'the contract is public').to.equal(undefined);
        expect(kongRoutesFor(routesOf(exposed), 'GET', '/metrics')).to.deep.equal([]);
        expect(kongModelProblems(exposed, loadedPlugins())).to.deep.equal([]);
      });
    });
  });
}

describe('the token rule: Kong and the service admit the tokens of common identity providers', function () {
  const idp = new JwksServer('records');
  const jwt = pluginOf(routesOf(configOf('production'))[0] as Route, 'jwt')?.config ?? {};
  const service = loadConfig({});
  let verify: ReturnType<typeof createTokenVerifier>['verify'];

  before(async function () {
    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    verify = createTokenVerifier({ ...service.auth, issuers: [idp.trusted] }).verify;
  });
  after(() => idp.stop());

  // Lifetimes by default; `nbf` where the provider sets it; the issuer's clock `skew` seconds ahead.
  const providers: Array<[string, { lifetime: number; nbf: boolean }]> = [
    ['Auth0 (24 h, no nbf)', { lifetime: 86_400, nbf: false }],
    ['Okta (1 h, no nbf)', { lifetime: 3600, nbf: false }],
    ['Microsoft Entra ID (about 75 min, nbf)', { lifetime: 4500, nbf: true }],
    ['Keycloak (5 min, no nbf)', { lifetime: 300, nbf: false }],
    ['Google (1 h, no nbf)', { lifetime: 3600, nbf: false }],
  ];
  for (const [name, { lifetime, nbf }] of providers) {
    for (const skew of [-5, 0, 5]) {
      it(`admits ${name} with the issuer's clock ${skew} s off, at the gateway and in the service`, async function () {
        const now = Math.floor(Date.now() / 1000);
        const iat = now + skew;
        const claims = { iat, exp: iat + lifetime, ...(nbf ? { nbf: iat } : {}) };
        expect(jwtTimeRuleModel(jwt, claims, now), 'Kong').to.equal(true);
        expect((await verify(idp.sign(claims))).subject).to.equal('user-1');
      });
    }
  }

  it('refuses, in both, a token without exp or past it; the gateway a token living longer than 24 h 5 min', async function () {
    const now = Math.floor(Date.now() / 1000);
    expect(jwtTimeRuleModel(jwt, { iat: now }, now)).to.equal(false);
    let refused = '';
    await verify(idp.sign({ exp: undefined })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token has no expiry');
    expect(jwtTimeRuleModel(jwt, { exp: now - 1 }, now)).to.equal(false);
    await verify(idp.sign({ exp: now - 60 })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token expired');
    expect(jwtTimeRuleModel(jwt, { iat: now, exp: now + 2 * 86_400 }, now)).to.equal(false);
  });

  it('leaves nbf to the service: 5 s ahead passes both, 60 s ahead is refused by the service', async function () {
    const now = Math.floor(Date.now() / 1000);
    expect(jwtTimeRuleModel(jwt, { exp: now + 300, nbf: now + 60 }, now)).to.equal(true);
    expect((await verify(idp.sign({ nbf: now + 5 }))).subject).to.equal('user-1');
    let refused = '';
    await verify(idp.sign({ nbf: now + 60 })).catch((error: Error) => (refused = error.message));
    expect(refused).to.equal('token not yet valid');
    expect(service.auth.clockToleranceSeconds).to.equal(10);
  });
});

describe('Kong chart values', function () {
  const chartValuesText = readFileSync(mirrorFile(chartPin('kong'), 'values.yaml'), 'utf8');
  const chartValues = parse(chartValuesText);
  // Options the chart documents as comments (`# maxUnavailable: "50%"`), or reads without listing
  // them (proxy.externalTrafficPolicy: its render with this project's values carries the field).
  const rendered = stringify(kongRender('staging').objects);
  const documented = (key: string) => new RegExp(`^\\s*#\\s*${key}:`, 'm').test(chartValuesText) || new RegExp(`^\\s*${key}: `, 'm').test(rendered);
  const files = ['kong/values.yaml', ...ENVIRONMENTS.map((environment) => generatedPath(environment, 'values.yaml')), 'k8s/kind/kong-values.yaml'];
  const values = parse(readFileSync('kong/values.yaml', 'utf8'));
  // Maps the chart passes through whole (Kong settings, labels, annotations, raw objects).
  // Kubernetes objects (securityContext, resources, ...) are checked field by field against the API below.
  const FREE_FORM = new Set(['env', 'customEnv', 'podAnnotations', 'podLabels', 'deploymentAnnotations', 'extraLabels', 'dblessConfig.config', 'serviceMonitor.labels', 'securityContext', 'containerSecurityContext', 'resources', 'tolerations', 'affinity', 'nodeSelector']);

  /** Keys we set that the chart's values.yaml does not have. */
  function unknownKeys(ours: any, theirs: any, path: string): string[] {
    if (FREE_FORM.has(path) || ours === null || typeof ours !== 'object' || Array.isArray(ours)) return [];
    if (theirs === null || theirs === undefined) return [`${path}: not a value of the chart`];
    if (typeof theirs !== 'object' || Array.isArray(theirs)) return [`${path}: a map where the chart has a ${Array.isArray(theirs) ? 'list' : typeof theirs}`];
    const commented = (key: string) => ['sidecarContainers', 'userDefinedVolumes', 'userDefinedVolumeMounts', 'initContainers', 'hostAliases'].includes(key) && path === 'deployment';
    return Object.entries(ours).flatMap(([key, value]) => {
      const child = path ? `${path}.${key}` : key;
      if (!(key in theirs) && !commented(key) && !documented(key)) return [`${child}: not a value of the chart`];
      return unknownKeys(value, theirs[key], child);
    });
  }

  /** Each Kubernetes field where the chart puts it: pod-level vs container-level, checked against the API's field lists. */
  async function misplacedFields(file: string, valuesOfFile: any): Promise<string[]> {
    const placements: Array<[string, unknown, string]> = [
      ['securityContext', valuesOfFile.securityContext, 'V1PodSecurityContext'],
      ['containerSecurityContext', valuesOfFile.containerSecurityContext, 'V1SecurityContext'],
      ['resources', valuesOfFile.resources, 'V1ResourceRequirements'],
      ['deployment.sidecarContainers', valuesOfFile.deployment?.sidecarContainers, 'Array<V1Container>'],
      ['deployment.userDefinedVolumes', valuesOfFile.deployment?.userDefinedVolumes, 'Array<V1Volume>'],
      ['tolerations', valuesOfFile.tolerations, 'Array<V1Toleration>'],
    ];
    const found = await Promise.all(placements.filter(([, value]) => value !== undefined).map(([path, value, type]) => unknownFieldsOf(value, type, `${file}: ${path}`)));
    return found.flat();
  }

  it('sets only values the pinned chart (kong 2.48.0) has, in every values file', function () {
    for (const file of files) expect(unknownKeys(parse(readFileSync(file, 'utf8')), chartValues, ''), file).to.deep.equal([]);
  });

  it('puts each Kubernetes field in the object the chart feeds it to', async function () {
    for (const file of files) expect(await misplacedFields(file, parse(readFileSync(file, 'utf8'))), file).to.deep.equal([]);
  });

  it('catches container settings under the pod-level securityContext (the b3e13de values)', async function () {
    const old = { securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } } };
    expect(await misplacedFields('old', old)).to.deep.equal([
      'old: securityContext.readOnlyRootFilesystem: unknown field',
      'old: securityContext.allowPrivilegeEscalation: unknown field',
      'old: securityContext.capabilities: unknown field',
    ]);
    expect(unknownKeys({ proxy: { tls: { nodeport: 1 } } }, chartValues, '')).to.deep.equal(['proxy.tls.nodeport: not a value of the chart']);
  });

  it('survives the chart\'s tpl pass over extraObjects in every environment, alerts keeping their $labels', function () {
    for (const environment of ENVIRONMENTS) {
      const files = chartPin('kong').renders[environment]!;
      const written = parse(readFileSync(generatedPath(environment, 'values.yaml'), 'utf8')).extraObjects as K8sObject[];
      let emitted: K8sObject[] = [];
      expect(() => (emitted = throughTpl(files)), environment).not.to.throw();
      expect(emitted.map((object) => `${object.kind}/${object.metadata.name}`), environment).to.deep.equal(written.map((object) => `${object.kind}/${object.metadata.name}`));
      const annotations = emitted.filter((object) => object.kind === 'PrometheusRule')
        .flatMap((rule) => rule.spec.groups.flatMap((group: { rules: Array<{ annotations?: Record<string, string> }> }) => group.rules.flatMap((alert) => Object.values(alert.annotations ?? {}))));
      for (const text of annotations) expect(text, `${environment}: an alert's text after tpl`).not.to.match(/\{\{\s*"/);
      if (environment === 'production') expect(annotations.join('\n'), 'the JWKS alert names its consumer').to.contain('{{ $labels.consumer }}');
    }
  });

  it('passes extraObjects through tpl as the chart does: a bare {{ $labels }} fails the render', function () {
    const dir = mkdtempSync(join(tmpdir(), 'kong-tpl-'));
    try {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, stringify({ extraObjects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { text: '{{ $labels.consumer }}' } }] }));
      expect(() => throughTpl([file])).to.throw(/undefined variable "\$labels"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(`runs Kong OSS ${KONG_MODEL_VERSION} (the version the schema model follows) DB-less, without the ingress controller or an Admin API Service`, function () {
    expect(values.image.repository).to.equal('kong');
    expect(String(values.image.tag)).to.equal(KONG_MODEL_VERSION);
    expect(values.env.database).to.equal('off');
    expect(values.dblessConfig.configMap, 'the config comes from kong/generated/<env>/values.yaml').to.equal('');
    expect(values.ingressController.enabled).to.equal(false);
    expect(values.admin.enabled).to.equal(false);
    expect(values.containerSecurityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsNonRoot: true });
  });

  it('documents real-IP handling, exposes status for metrics, and is resilient', function () {
    // trusted_ips is per environment: 'the client address Kong rate-limits by' below.
    expect(values.env.real_ip_header).to.equal('X-Forwarded-For');
    expect(values.status.enabled).to.equal(true);
    expect(values.proxy.type).to.equal('LoadBalancer');
    expect(values.podDisruptionBudget.enabled).to.equal(true);
    expect(values.autoscaling.minReplicas).to.be.at.least(2);
  });

  for (const environment of ENVIRONMENTS) {
    it(`gives ${environment} a cert-manager certificate for its hosts, the jwks-sync sidecar and its monitoring objects`, async function () {
      const settings = readEnvironment(environment);
      const generated = valuesOf(environment);
      expect(generated.certificates).to.deep.include({ enabled: true, clusterIssuer: settings.tls.clusterIssuer });
      expect(generated.certificates.proxy).to.deep.include({ enabled: true, commonName: settings.hosts[0], dnsNames: settings.hosts });
      for (const unused of ['admin', 'portal', 'cluster']) expect(generated.certificates[unused].enabled, unused).to.equal(false);
      const [sidecar] = generated.deployment.sidecarContainers;
      const env = Object.fromEntries(sidecar.env.map((variable: any) => [variable.name, variable.value ?? variable.valueFrom]));
      expect(sidecar.image).to.equal(settings.syncImage);
      expect(sidecar.args).to.deep.equal(['kong-sync']);
      expect(JSON.parse(env.KONG_SYNC_ISSUERS)).to.deep.equal(settings.issuers.map(({ consumer, jwksUri }) => ({ consumer, jwksUri })));
      expect(env.KONG_SYNC_ADMIN_URL ?? 'https://127.0.0.1:8444', 'the Admin API stays on loopback').to.match(/^https:\/\/127\.0\.0\.1:/);
      expect(env.KONG_SYNC_REDIS_URL).to.equal(`${settings.rateLimitRedis.ssl ? 'rediss' : 'redis'}://${settings.rateLimitRedis.username}@${settings.rateLimitRedis.host}:${settings.rateLimitRedis.port}`);
      const kinds = (generated.extraObjects as K8sObject[]).map((object) => object.kind).sort();
      expect(kinds).to.deep.equal(settings.prometheusOperator ? ['PodMonitor', 'PrometheusRule'] : ['Service']);
      expect(await validateAll(generated.extraObjects)).to.deep.equal([]);
      expect(generated.serviceMonitor.enabled).to.equal(settings.prometheusOperator);
    });
  }

  it('has alerts that fire when they must and stay silent when they must not (promtool test rules)', function () {
    const ok = spawnSync('promtool', ['test', 'rules', 'kong/alerts.test.yaml'], { encoding: 'utf8' });
    expect(ok.status, ok.stdout + ok.stderr).to.equal(0);
    // The same tests against a rule with its threshold moved must fail: they can fail.
    const dir = mkdtempSync(join(tmpdir(), 'kong-alerts-'));
    try {
      writeFileSync(join(dir, 'alerts.yaml'), readFileSync('kong/alerts.yaml', 'utf8').replace('> 0.2', '> 0.5'));
      writeFileSync(join(dir, 'alerts.test.yaml'), readFileSync('kong/alerts.test.yaml', 'utf8'));
      const moved = spawnSync('promtool', ['test', 'rules', join(dir, 'alerts.test.yaml')], { encoding: 'utf8' });
      expect(moved.status).not.to.equal(0);
      expect(moved.stdout + moved.stderr).to.contain('KongUnauthorizedSpike');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the client address Kong rate-limits by', function () {
  const PRIVATE_RANGES = ['0.0.0.0/0', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];

  it('trusts X-Forwarded-For only from each environment\'s load balancer ranges, never a private range wholesale', function () {
    expect(parse(readFileSync('kong/values.yaml', 'utf8')).env.trusted_ips, 'kong/values.yaml: no shared default').to.equal(undefined);
    for (const environment of ENVIRONMENTS) {
      const trusted = String(valuesOf(environment).env?.trusted_ips ?? '').split(',').filter(Boolean);
      expect(trusted, environment).to.deep.equal(readEnvironment(environment).trustedIps);
      expect(trusted.filter((range) => PRIVATE_RANGES.includes(range)), environment).to.deep.equal([]);
    }
  });
});

describe('Kong and the records chart', function () {
  it('points the Kong service at the chart\'s Service for the default release', function () {
    const service = helmTemplate([], [], 'records', 'records').find((object) => object.kind === 'Service' && object.metadata.name === 'records');
    for (const environment of ENVIRONMENTS) {
      expect(configOf(environment).services[0]?.url).to.equal(`http://${service?.metadata.name}.records.svc.cluster.local:${service?.spec.ports[0].port}`);
    }
  });

  it('admits the tokens of exactly the issuers the service trusts, in every environment', function () {
    for (const environment of ENVIRONMENTS) {
      const kong = readEnvironment(environment).issuers.map((issuer) => issuer.jwksUri).sort();
      const values = parse(readFileSync(`argocd/values/records/${environment}.yaml`, 'utf8'));
      const service = (values.config.auth.issuers as Array<{ jwksUri: string }>).map((issuer) => issuer.jwksUri).sort();
      expect(kong, `${environment}: Kong's consumers (kong/environments) vs the service's issuers (argocd/values/records)`).to.deep.equal(service);
    }
  });

  it('admits Kong\'s namespace in the chart\'s NetworkPolicy', function () {
    const policy = helmTemplate().find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'records');
    const namespaces = policy?.spec.ingress.flatMap((rule: any) => (rule.from ?? []).map((from: any) => from.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']));
    expect(namespaces).to.include(parse(readFileSync('charts/records/values.yaml', 'utf8')).networkPolicy.kongNamespace);
  });
});
