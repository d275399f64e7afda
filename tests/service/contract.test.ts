import { expect } from 'chai';
import SwaggerParser from '@apidevtools/swagger-parser';
import { OPENAPI_PATH, loadOpenApi } from '../../service/src/api/http/docs-router.js';
import { parseRecordId } from '../../service/src/api/http/search-params.js';
import { checkAgainstContract, resolve, spec } from '../support/contract.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';

const json = new Headers({ 'content-type': 'application/json' });
const problem = new Headers({ 'content-type': 'application/problem+json' });

describe('the OpenAPI contract (service/openapi.yaml)', function () {
  it('is a valid OpenAPI 3.1 document', async function () {
    await SwaggerParser.validate(OPENAPI_PATH);
  });

  it('passes the project lint rules: ids, summaries, tags, security, examples, problem responses (and Kong\'s own answers as KongMessage)', function () {
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.operationId, where).to.match(/^[a-z][A-Za-z]+$/);
        expect(ids.has(operation.operationId), where).to.equal(false);
        ids.add(operation.operationId);
        expect(operation.summary, where).to.be.a('string');
        expect(operation.tags, where).to.have.length.greaterThan(0);
        expect(operation.security?.[0]?.bearer, `${where} declares its scope`).to.have.length(1);
        for (const status of ['200', '400', '401', '403', '503']) expect(operation.responses, where).to.have.property(status);
        const ok = operation.responses['200'].content['application/json'];
        expect(ok.example, `${where} has an example`).to.not.equal(undefined);
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status.startsWith('4') || status.startsWith('5')) {
            const resolved = resolve(response);
            // The service answers problem+json; what Kong answers itself has its own JSON body. Only
            // Kong answers RateLimited (the service's own 429 is a search's, TooManySearchesOrRateLimited).
            if ((response as { $ref?: string }).$ref !== '#/components/responses/RateLimited') expect(resolved.content, `${where} ${status}`).to.have.property('application/problem+json');
            for (const [media, content] of Object.entries(resolved.content as Record<string, { schema: { $ref?: string } }>)) {
              if (media === 'application/problem+json') continue;
              expect([media, content.schema.$ref], `${where} ${status}`).to.deep.equal(['application/json', '#/components/schemas/KongMessage']);
            }
          }
        }
      }
    }
    expect([...ids].sort()).to.deep.equal(['bulkLoad', 'getRecord', 'searchRecords']);
    expect(spec.components.securitySchemes.bearer).to.include({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('admits as a record id exactly what the service reads as one', function () {
    // The pattern said 1 to 16 digits, and the service answered 400 to ids past 2^53-1.
    const pattern = new RegExp(resolve(spec.paths['/v1/{id}']?.get.parameters.find((parameter: any) => parameter.name === 'id')).schema.pattern);
    const reads = (text: string) => {
      try {
        parseRecordId(text);
        return true;
      } catch {
        return false;
      }
    };
    const max = 2n ** 53n - 1n;
    const samples = ['0', '01', '1', '9', '10', '-1', '1.5', '1e3', ' 1', '999999999999999', '1000000000000000', '8999999999999999', '9000000000000000', '99999999999999999'];
    for (let offset = -1200n; offset <= 1200n; offset += 1n) samples.push(String(max + offset));
    // Every digit of 2^53-1 one lower and one higher, the rest kept: the branches of the pattern.
    for (let at = 0; at < String(max).length; at += 1) {
      for (const step of [-1, 1]) {
        const digit = Number(String(max)[at]) + step;
        if (digit >= 0 && digit <= 9) samples.push(String(max).slice(0, at) + digit + String(max).slice(at + 1));
      }
    }
    const disagreements = samples.filter((text) => pattern.test(text) !== reads(text));
    expect(disagreements).to.deep.equal([]);
    expect(pattern.test(String(max))).to.equal(true);
    expect(pattern.test(String(max + 1n))).to.equal(false);
  });

  it('catches responses that drift from it', function () {
    expect(() => checkAgainstContract('GET', '/v1/1', 200, json, { id: 1, title: 'x', uri: null, date: '2020-01-01T00:00:00.000Z' })).to.throw(/rawDate/);
    expect(() => checkAgainstContract('GET', '/v1/1', 418, problem, {})).to.throw(/not a documented response/);
    expect(() => checkAgainstContract('GET', '/v1/', 200, new Headers({ 'content-type': 'text/plain' }), '')).to.throw(/answered text\/plain/);
    expect(() => checkAgainstContract('GET', '/v1/', 200, json, { items: [], next: null })).not.to.throw();
    // A path the spec does not have: only a problem document may answer it.
    expect(() => checkAgainstContract('GET', '/v2/records', 200, json, { items: [] })).to.throw(/not an operation of service\/openapi.yaml/);
    expect(() => checkAgainstContract('DELETE', '/v1/1', 200, json, {})).to.throw(/not an operation/);
    const notFound = { type: '/problems/not-found', title: 'Not Found', status: 404, detail: 'GET /v2/records is not served here.' };
    expect(() => checkAgainstContract('GET', '/v2/records', 404, problem, notFound)).not.to.throw();
    // A problem type the contract does not list (it listed none but three: a client could not tell a 422's causes apart).
    expect(() => checkAgainstContract('GET', '/v1/1', 404, problem, { ...notFound, type: '/problems/no-such-thing' })).to.throw(/problem type \/problems\/no-such-thing is not listed/);
    expect(() => checkAgainstContract('GET', '/v1/1', 400, problem, { ...notFound, type: '/problems/http-400', status: 400 })).not.to.throw();
  });

  describe('served by the service', function () {
    let app: TestApp;
    before(async () => {
      app = await startTestApp('sqlite');
    });
    after(async () => app?.close());

    it('at /openapi.json, identical to the YAML file', async function () {
      const response = await request(app.baseUrl, '/openapi.json');
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(loadOpenApi());
    });

    it('with a documentation page at /docs from the installed Swagger UI, under a strict CSP', async function () {
      const page = await fetch(`${app.baseUrl}/docs`);
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-security-policy')).to.contain("default-src 'self'");
      const html = await page.text();
      for (const asset of html.match(/\/docs\/[\w.-]+/g) ?? []) {
        expect((await fetch(`${app.baseUrl}${asset}`)).status, asset).to.equal(200);
      }
      expect(html).not.to.match(/https?:\/\//);
    });
  });
});
