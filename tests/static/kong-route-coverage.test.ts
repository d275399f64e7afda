import { expect } from 'chai';
import { parse } from 'yaml';
import { ENVIRONMENTS } from '../../tooling/environments.js';
import { resolve, spec } from '../support/contract.js';
import { readEnvironment, renderConfig } from '../../tooling/kong-config.js';
import { configOf, loadedPlugins, pluginOf, routesOf, type KongConfig, type Route } from '../support/kong-generated.js';
import { kongModelProblems } from '../support/kong-model/index.js';
import { normalizePath } from '../support/kong-model/paths.js';

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

type Responses = Record<string, { $ref?: string; content?: Record<string, { schema?: { $ref?: string } }> }>;

/** The operations of the API contract (service/openapi.yaml), as method and path template, with their responses. */
function contractOperations(): Array<{ method: string; template: string; responses: Responses }> {
  const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  return Object.entries(spec.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((key) => METHODS.includes(key))
      .map((method) => ({ method: method.toUpperCase(), template, responses: item[method]?.responses ?? {} })),
  );
}
/** The media types an operation's response for `status` declares, its $ref resolved. */
const declaredMedia = (responses: Responses, status: string): Record<string, { schema?: { $ref?: string } }> => resolve(responses[status])?.content ?? {};
/** The statuses Kong's plugins answer themselves, with their own JSON body (docs/gateway.md, "What Kong answers itself"). */
const KONG_REFUSALS: Record<string, string[]> = { jwt: ['401'], 'rate-limiting': ['429'], 'request-size-limiting': ['413', '417'] };
/** A request path for a template: each parameter as a sample value that is no literal segment. */
const examplePath = (template: string) => template.replace(/\{[^}]+\}/g, '12345');

for (const environment of ENVIRONMENTS) {
  describe(`Kong declarative configuration for ${environment} (kong/generated/${environment})`, function () {
    this.timeout(30_000);
    const settings = readEnvironment(environment);
    const routes = routesOf(configOf(environment));

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

      it("lists in the contract what the route's plugins answer themselves, with Kong's body (the contract promised problem+json alone, and no 429 on reads by id or bulk loads)", function () {
        for (const { method, template, responses } of operations) {
          const route = routeOf(method, template)[0] as Route;
          for (const [plugin, statuses] of Object.entries(KONG_REFUSALS)) {
            if (!pluginOf(route, plugin)) continue;
            for (const status of statuses) {
              const media = declaredMedia(responses, status);
              expect(media['application/json']?.schema?.$ref, `${method} ${template} ${status} (${plugin})`).to.equal('#/components/schemas/KongMessage');
            }
          }
        }
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
