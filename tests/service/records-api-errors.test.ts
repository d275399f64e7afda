import { expect } from 'chai';
import { ENGINES, withInsertRefused } from '../support/databases.js';
import { buildItem, uniqueTag } from '../support/factories.js';
import { expectProblem, useRecordsApp } from './records-api-helpers.js';
import { postJson, request } from '../support/test-app.js';

for (const engine of ENGINES) {
  describe(`records API on ${engine}`, function () {
    const { app, base } = useRecordsApp(engine);

    describe('POST /v1/bulk', function () {
      it('stores nothing and answers 503 when the database fails part-way through the request', async function () {
        const tag = uniqueTag();
        const knex = app().runtime.db.knex;
        // A real database failure in the third batch (batch size is 2), after two batches were written.
        await withInsertRefused(knex, engine, `${tag} boom`, async () => {
          const items = [1, 2, 3, 4].map((n) => buildItem({ title: `${tag} ${n}` }));
          items.push(buildItem({ title: `${tag} boom` }), buildItem({ title: `${tag} 6` }));
          const response = await postJson(base(), '/v1/bulk', { items });
          expectProblem(response, 503);
          expect(response.body.detail).not.to.match(/simulated|trigger|SQL/i);
          expect(await app().countTagged(tag)).to.equal(0);
        });
      });

      it('answers 200 with inserted 0 for empty items', async function () {
        const response = await postJson(base(), '/v1/bulk', { items: [] });
        expect(response.status).to.equal(200);
        expect(response.body).to.deep.equal({ inserted: 0, ids: [], rejected: [] });
      });

      for (const [name, body] of [
        ['malformed JSON', '{"items": [}'],
        ['a JSON array', '[]'],
        ['an object without items', '{}'],
        ['items that is not an array', '{"items": {"0": {}}}'],
        ['unknown top-level fields', '{"items": [], "more": 1}'],
        ['JSON null', 'null'],
      ] as const) {
        it(`answers 400 problem+json for ${name}`, async function () {
          const response = await postJson(base(), '/v1/bulk', body);
          expectProblem(response, 400);
          expect(response.body.errors[0].pointer).to.match(/^#/);
        });
      }

      it('answers 400 for a body that is not valid UTF-8', async function () {
        const bytes = Buffer.concat([Buffer.from('{"items": [{"title": "'), Buffer.from([0xff, 0xfe]), Buffer.from('", "date": "2020-01-01"}]}')]);
        const response = await request(base(), '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
        expectProblem(response, 400);
      });

      it('answers 413 for a body over the configured limit and stores nothing', async function () {
        const tag = uniqueTag();
        const items = Array.from({ length: 700 }, () => buildItem({ title: `${tag} padding padding padding padding padding` }));
        const response = await postJson(base(), '/v1/bulk', { items });
        expectProblem(response, 413);
        expect(await app().countTagged(tag)).to.equal(0);
      });

      it('answers 415 for a body that is not JSON', async function () {
        const response = await request(base(), '/v1/bulk', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"items": []}' });
        expectProblem(response, 415);
        const latin1 = await request(base(), '/v1/bulk', {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=iso-8859-1' },
          body: '{"items": []}',
        });
        expectProblem(latin1, 415);
      });
    });

    describe('errors', function () {
      it('answers unknown routes with 404 problem+json', async function () {
        expectProblem(await request(base(), '/v2/anything'), 404);
      });

      it('answers a wrong method with 405 problem+json and an Allow header', async function () {
        const del = await request(base(), '/v1/5', { method: 'DELETE' });
        expectProblem(del, 405);
        expect(del.headers.get('allow')).to.contain('GET');
      });
    });
  });
}
