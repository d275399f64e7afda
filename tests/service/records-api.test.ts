import { expect } from 'chai';
import { ENGINES } from '../support/databases.js';
import { buildItem, uniqueTag } from '../support/factories.js';
import { postJson, request, startTestApp, type JsonResponse, type TestApp } from '../support/test-app.js';

function expectProblem(response: JsonResponse, status: number) {
  expect(response.status, JSON.stringify(response.body)).to.equal(status);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(response.body).to.include({ status });
  expect(response.body.type).to.be.a('string');
  expect(response.body.title).to.be.a('string');
  expect(response.body.detail).to.be.a('string');
  expect(JSON.stringify(response.body)).not.to.match(/\bat .*\.(ts|js):\d+/);
}

for (const engine of ENGINES) {
  describe(`records API on ${engine}`, function () {
    let app: TestApp;
    let base: string;

    before(async function () {
      app = await startTestApp(engine, { BODY_LIMIT: '64kb', INSERT_BATCH_SIZE: '2' });
      base = app.baseUrl;
    });
    after(async () => app?.close());

    describe('POST /v1/bulk', function () {
      const accepted: Array<[string, string]> = [
        ['2014-03-08T15', '2014-03-08T15:00:00.000Z'],
        ['1991-03-11T01:39:21', '1991-03-11T01:39:21.000Z'],
        ['March 30 1985', '1985-03-30T00:00:00.000Z'],
        ['September 02 2018', '2018-09-02T00:00:00.000Z'],
        ['06 Oct 1980', '1980-10-06T00:00:00.000Z'],
        ['21 Aug 2015', '2015-08-21T00:00:00.000Z'],
        ['2021-01-01', '2021-01-01T00:00:00.000Z'],
        ['2021-01-01T10:00:00Z', '2021-01-01T10:00:00.000Z'],
        ['2021-01-01T10:00:00.250+02:00', '2021-01-01T08:00:00.250Z'],
        ['Tue, 01 Nov 2016 13:23:12 +0630', '2016-11-01T06:53:12.000Z'],
        ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'],
      ];
      for (const [raw, iso] of accepted) {
        it(`accepts the date "${raw}" as ${iso} and keeps the original text`, async function () {
          const response = await postJson(base, '/v1/bulk', { items: [buildItem({ date: raw })] });
          expect(response.status).to.equal(200);
          expect(response.body).to.deep.include({ inserted: 1, rejected: [] });
          const stored = await request(base, `/v1/${response.body.ids[0]}`);
          expect(stored.body).to.include({ date: iso, rawDate: raw });
        });
      }

      const rejected: Array<[unknown, RegExp]> = [
        ['May 23', /no year/],
        ['2021-02-30', /impossible date: day 30/],
        ['2021-01-01T25:00', /impossible date: hour 25/],
        ['01/02/2003', /ambiguous/],
        ['Sunday, 06-Nov-94 08:49:37 GMT', /two-digit year/],
        ['yesterday', /unrecognised/],
        ['', /empty/],
        [20210101, /must be a string/],
        [null, /required/],
      ];
      for (const [raw, reason] of rejected) {
        it(`rejects the date ${JSON.stringify(raw)} with a reason and stores the valid items`, async function () {
          const tag = uniqueTag();
          const items = [buildItem({ title: `${tag} ok` }), buildItem({ title: `${tag} bad`, date: raw })];
          const response = await postJson(base, '/v1/bulk', { items });
          expect(response.status).to.equal(200);
          expect(response.body.inserted).to.equal(1);
          expect(response.body.rejected).to.have.length(1);
          expect(response.body.rejected[0]).to.include({ index: 1, field: 'date' });
          expect(response.body.rejected[0].message).to.match(reason);
          expect(await app.countTagged(tag)).to.equal(1);
        });
      }

      it('returns ids in the order of the stored items, skipping rejected ones', async function () {
        const tag = uniqueTag();
        const items = [0, 1, 2, 3, 4].map((n) => buildItem({ title: `${tag} #${n}`, date: n === 2 ? 'May 23' : '2010-01-0' + (n + 1) }));
        const response = await postJson(base, '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(4);
        expect(response.body.rejected.map((r: { index: number }) => r.index)).to.deep.equal([2]);
        const titles = await Promise.all(response.body.ids.map(async (id: number) => (await request(base, `/v1/${id}`)).body.title));
        expect(titles).to.deep.equal([`${tag} #0`, `${tag} #1`, `${tag} #3`, `${tag} #4`]);
      });

      it('stores text with quotes, placeholders, backslashes and NUL exactly as sent', async function () {
        const tag = uniqueTag();
        const tricky = [`${tag} it's "?" ?? \\ \\' ; -- /*`, `${tag} ${'\u0000'}\n\t%_ 𝄞 é`];
        const items = tricky.map((title) => buildItem({ title, uri: `https://example.org/a?b=${title.length}&c='?'`, date: '2020-01-01' }));
        const response = await postJson(base, '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(2);
        const stored = await Promise.all(response.body.ids.map(async (id: number) => (await request(base, `/v1/${id}`)).body));
        expect(stored.map((record: { title: string; uri: string }) => [record.title, record.uri])).to.deep.equal(items.map((item) => [item.title, item.uri]));
        const found = await request(base, `/v1/?contains=${encodeURIComponent(`${tag} it's "?"`)}`);
        expect(found.body.items.map((record: { title: string }) => record.title)).to.deep.equal([tricky[0]]);
      });

      it('accepts null, empty and missing title and uri, and enforces their lengths', async function () {
        const tag = uniqueTag();
        const response = await postJson(base, '/v1/bulk', {
          items: [
            { title: null, uri: null, date: '2001-01-01' },
            { title: '', uri: '', date: '2001-01-01' },
            { date: '2001-01-01' },
            { title: `${tag}`.padEnd(255, 'é'), uri: 'u'.repeat(2048), date: '2001-01-01' },
            { title: 'x'.repeat(256), date: '2001-01-01' },
            { uri: 'u'.repeat(2049), date: '2001-01-01' },
            { title: 5, date: '2001-01-01' },
            { title: 'ok', date: '2001-01-01', extra: true },
            'not an object',
          ],
        });
        expect(response.status).to.equal(200);
        expect(response.body.inserted).to.equal(4);
        expect(response.body.rejected).to.deep.equal([
          { index: 4, field: 'title', message: 'must be at most 255 characters' },
          { index: 5, field: 'uri', message: 'must be at most 2048 characters' },
          { index: 6, field: 'title', message: 'must be a string or null' },
          { index: 7, field: 'extra', message: 'unknown field' },
          { index: 8, field: 'item', message: 'must be an object' },
        ]);
        const [nullOne, emptyOne, missingOne, longOne] = await Promise.all(
          response.body.ids.map(async (id: number) => (await request(base, `/v1/${id}`)).body),
        );
        expect(nullOne).to.include({ title: null, uri: null });
        expect(emptyOne).to.include({ title: '', uri: '' });
        expect(missingOne).to.include({ title: null, uri: null });
        expect([...longOne.title]).to.have.length(255);
        expect(longOne.uri).to.have.length(2048);
      });

      it('with atomic=true rejects the whole request with 422 and stores nothing', async function () {
        const tag = uniqueTag();
        const items = [buildItem({ title: `${tag} a` }), buildItem({ title: `${tag} b`, date: '2021-02-30' }), buildItem({ title: `${tag} c` })];
        const response = await postJson(base, '/v1/bulk?atomic=true', { items });
        expectProblem(response, 422);
        expect(response.body.rejected).to.deep.equal([{ index: 1, field: 'date', message: 'impossible date: day 30 is out of range' }]);
        expect(response.body.errors).to.deep.equal([{ pointer: '#/items/1/date', detail: 'impossible date: day 30 is out of range' }]);
        expect(await app.countTagged(tag)).to.equal(0);
      });

      it('with atomic=true stores everything when every item is valid', async function () {
        const tag = uniqueTag();
        const response = await postJson(base, '/v1/bulk?atomic=true', { items: [buildItem({ title: tag }), buildItem({ title: tag })] });
        expect(response.status).to.equal(200);
        expect(response.body.inserted).to.equal(2);
        expect(await app.countTagged(tag)).to.equal(2);
      });

      it('rejects an atomic value other than true or false', async function () {
        const response = await postJson(base, '/v1/bulk?atomic=yes', { items: [] });
        expectProblem(response, 400);
        expect(response.body.errors).to.deep.equal([{ parameter: 'atomic', detail: 'must be true or false' }]);
      });

      it('stores nothing and answers 503 when the database fails part-way through the request', async function () {
        const tag = uniqueTag();
        const knex = app.runtime.db.knex;
        // A real database failure in the third batch (batch size is 2), after two batches were written.
        if (engine === 'sqlite') {
          await knex.raw(`CREATE TRIGGER fail_midway BEFORE INSERT ON records WHEN NEW.title = '${tag} boom'
                          BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`);
        } else {
          await knex.raw(`CREATE TRIGGER fail_midway BEFORE INSERT ON records FOR EACH ROW
                          BEGIN IF NEW.title = '${tag} boom' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'simulated failure'; END IF; END`);
        }
        try {
          const items = [1, 2, 3, 4].map((n) => buildItem({ title: `${tag} ${n}` }));
          items.push(buildItem({ title: `${tag} boom` }), buildItem({ title: `${tag} 6` }));
          const response = await postJson(base, '/v1/bulk', { items });
          expectProblem(response, 503);
          expect(response.body.detail).not.to.match(/simulated|trigger|SQL/i);
          expect(await app.countTagged(tag)).to.equal(0);
        } finally {
          await knex.raw('DROP TRIGGER fail_midway');
        }
      });

      it('answers 200 with inserted 0 for empty items', async function () {
        const response = await postJson(base, '/v1/bulk', { items: [] });
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
          const response = await postJson(base, '/v1/bulk', body);
          expectProblem(response, 400);
          expect(response.body.errors[0].pointer).to.match(/^#/);
        });
      }

      it('answers 400 for a body that is not valid UTF-8', async function () {
        const bytes = Buffer.concat([Buffer.from('{"items": [{"title": "'), Buffer.from([0xff, 0xfe]), Buffer.from('", "date": "2020-01-01"}]}')]);
        const response = await request(base, '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
        expectProblem(response, 400);
      });

      it('answers 413 for a body over the configured limit and stores nothing', async function () {
        const tag = uniqueTag();
        const items = Array.from({ length: 700 }, () => buildItem({ title: `${tag} padding padding padding padding padding` }));
        const response = await postJson(base, '/v1/bulk', { items });
        expectProblem(response, 413);
        expect(await app.countTagged(tag)).to.equal(0);
      });

      it('answers 415 for a body that is not JSON', async function () {
        const response = await request(base, '/v1/bulk', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"items": []}' });
        expectProblem(response, 415);
        const latin1 = await request(base, '/v1/bulk', {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=iso-8859-1' },
          body: '{"items": []}',
        });
        expectProblem(latin1, 415);
      });
    });

    describe('GET /v1/', function () {
      let tag: string;
      const titles = [
        ['Le confort de la maison', '2012-05-01', 'https://Example.org/Maison'],
        ['La tranquilité du soir', '2015-01-01', 'https://example.org/soir'],
        ['100% pure', '2016-01-01', 'https://example.org/a_b'],
        ['1000 pure', '2016-01-02', 'https://example.org/a-b'],
        ['under_score', '2017-01-01', null],
        ['underXscore', '2017-01-02', null],
        ['back\\slash', '2018-01-01', null],
        ['Straße und Œuvre', '2019-12-31T23:59:59Z', null],
        ['on the edge', '2020-01-01', null],
      ] as const;

      before(async function () {
        tag = uniqueTag('s');
        const items = titles.map(([title, date, uri]) => ({ title: `${title} ${tag}`, date, uri }));
        const response = await postJson(base, '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(titles.length);
      });

      async function search(params: Record<string, string>): Promise<JsonResponse> {
        return request(base, `/v1/?${new URLSearchParams(params)}`);
      }
      async function titlesFor(params: Record<string, string>): Promise<string[]> {
        const response = await search({ ...params });
        expect(response.status, JSON.stringify(response.body)).to.equal(200);
        return response.body.items.map((item: { title: string }) => item.title.replace(` ${tag}`, ''));
      }

      it('finds the README example: before, after and contains together', async function () {
        expect(await titlesFor({ before: '2020-01-01', after: '2012-01-01', contains: `confort de la maison ${tag}` })).to.deep.equal([
          'Le confort de la maison',
        ]);
      });

      it('matches contains case-insensitively and accent-insensitively', async function () {
        expect(await titlesFor({ contains: `CONFORT de la MAISON ${tag}` })).to.deep.equal(['Le confort de la maison']);
        expect(await titlesFor({ contains: `tranquilite du soir ${tag}` })).to.deep.equal(['La tranquilité du soir']);
        expect(await titlesFor({ contains: `TRANQUILITÉ du soir ${tag}` })).to.deep.equal(['La tranquilité du soir']);
        expect(await titlesFor({ contains: `strasse und oeuvre ${tag}` })).to.deep.equal(['Straße und Œuvre']);
      });

      it('takes %, _ and \\ literally, never as wildcards', async function () {
        expect(await titlesFor({ contains: `100% pure ${tag}` })).to.deep.equal(['100% pure']);
        expect(await titlesFor({ contains: `under_score ${tag}` })).to.deep.equal(['under_score']);
        expect(await titlesFor({ contains: `back\\slash ${tag}` })).to.deep.equal(['back\\slash']);
        expect(await titlesFor({ contains: `% pure ${tag}` })).to.deep.equal(['100% pure']);
        expect(await titlesFor({ contains: `_ ${tag}` })).to.deep.equal([]);
      });

      it('matches uri as a case-insensitive substring with literal wildcards', async function () {
        expect(await titlesFor({ contains: tag, uri: 'example.org/MAISON' })).to.deep.equal(['Le confort de la maison']);
        expect(await titlesFor({ contains: tag, uri: 'a_b' })).to.deep.equal(['100% pure']);
      });

      it('treats after as inclusive and before as exclusive, in UTC', async function () {
        expect(await titlesFor({ contains: tag, after: '2016-01-01', before: '2016-01-02' })).to.deep.equal(['100% pure']);
        expect(await titlesFor({ contains: tag, after: '2019-12-31T23:59:59Z', before: '2020-01-01T00:00:00Z' })).to.deep.equal([
          'Straße und Œuvre',
        ]);
        expect(await titlesFor({ contains: tag, after: '2020-01-01T01:00:00+01:00', before: '2020-01-02' })).to.deep.equal([
          'on the edge',
        ]);
      });

      it('orders by date then id and returns ISO 8601 UTC dates', async function () {
        const response = await search({ contains: tag });
        const dates = response.body.items.map((item: { date: string }) => item.date);
        expect(dates).to.deep.equal([...dates].sort());
        expect(dates[0]).to.equal('2012-05-01T00:00:00.000Z');
        for (const date of dates) expect(date).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      });

      it('answers 200 with an empty list when nothing matches', async function () {
        const response = await search({ contains: `no such title ${tag}` });
        expect(response.status).to.equal(200);
        expect(response.body).to.deep.equal({ items: [], next: null });
      });

      for (const [params, parameter] of [
        [{ after: '2020-13-01' }, 'after'],
        [{ before: 'yesterday' }, 'before'],
        [{ before: '01/02/2003' }, 'before'],
        [{ after: '2020-01-02', before: '2020-01-01' }, 'after'],
        [{ after: '2020-01-01', before: '2020-01-01' }, 'after'],
        [{ limit: '0' }, 'limit'],
        [{ limit: '1001' }, 'limit'],
        [{ limit: 'ten' }, 'limit'],
        [{ cursor: 'garbage' }, 'cursor'],
        [{ sort: 'date' }, 'sort'],
      ] as const) {
        it(`answers 400 naming "${parameter}" for ${JSON.stringify(params)}`, async function () {
          const response = await search(params);
          expectProblem(response, 400);
          expect(response.body.errors.map((e: { parameter: string }) => e.parameter)).to.include(parameter);
        });
      }

      it('answers 400 for a repeated parameter', async function () {
        const response = await request(base, '/v1/?contains=a&contains=b');
        expectProblem(response, 400);
        expect(response.body.errors).to.deep.equal([{ parameter: 'contains', detail: 'must be given at most once' }]);
      });

      it('pages with an opaque cursor, null on the last page', async function () {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const response: JsonResponse = await search({ contains: tag, limit: '4', ...(cursor ? { cursor } : {}) });
          expect(response.status).to.equal(200);
          seen.push(...response.body.items.map((item: { title: string }) => item.title));
          cursor = response.body.next;
          pages += 1;
        } while (cursor !== null);
        expect(pages).to.equal(3);
        expect(seen).to.have.length(titles.length);
        expect(new Set(seen).size).to.equal(titles.length);
      });

      it('rejects a tampered cursor, and a cursor used with other filters', async function () {
        const first = await search({ contains: tag, limit: '2' });
        const cursor: string = first.body.next;
        const [payload, checksum] = cursor.split('.') as [string, string];
        const edited = Buffer.from(Buffer.from(payload, 'base64url').toString().replace(/\.(\d+)\./, '.1.')).toString('base64url');
        expectProblem(await search({ contains: tag, limit: '2', cursor: `${edited}.${checksum}` }), 400);
        expectProblem(await search({ contains: tag, limit: '2', cursor: cursor.slice(0, -1) + (cursor.endsWith('A') ? 'B' : 'A') }), 400);
        expectProblem(await search({ contains: `${tag}x`, limit: '2', cursor }), 400);
        expect((await search({ contains: tag, limit: '3', cursor })).status).to.equal(200);
      });

      it('keeps pages correct while new records are inserted between them', async function () {
        const pageTag = uniqueTag('p');
        const dates = ['2001-01-01', '2002-01-01', '2003-01-01', '2004-01-01', '2005-01-01', '2006-01-01'];
        await postJson(base, '/v1/bulk', { items: dates.map((date) => ({ title: `${pageTag} ${date}`, date })) });

        const page1 = await search({ contains: pageTag, limit: '2' });
        // Inserted before the cursor (never shown), at the cursor's own date (after it by id), and later.
        await postJson(base, '/v1/bulk', {
          items: [
            { title: `${pageTag} early`, date: '2000-06-01' },
            { title: `${pageTag} same-date`, date: '2002-01-01' },
            { title: `${pageTag} late`, date: '2010-01-01' },
          ],
        });
        const rest: string[] = [];
        let cursor: string | null = page1.body.next;
        while (cursor) {
          const page: JsonResponse = await search({ contains: pageTag, limit: '2', cursor });
          rest.push(...page.body.items.map((item: { title: string }) => item.title.replace(`${pageTag} `, '')));
          cursor = page.body.next;
        }
        const first = page1.body.items.map((item: { title: string }) => item.title.replace(`${pageTag} `, ''));
        expect(first).to.deep.equal(['2001-01-01', '2002-01-01']);
        expect(rest).to.deep.equal(['same-date', '2003-01-01', '2004-01-01', '2005-01-01', '2006-01-01', 'late']);
      });
    });

    describe('GET /v1/:id', function () {
      it('returns the stored record', async function () {
        const item = buildItem({ title: 'Un titre élégant', uri: 'https://example.org/x', date: '06 Oct 1980' });
        const created = await postJson(base, '/v1/bulk', { items: [item] });
        const id = created.body.ids[0];
        const response = await request(base, `/v1/${id}`);
        expect(response.status).to.equal(200);
        expect(response.body).to.deep.equal({
          id,
          title: 'Un titre élégant',
          uri: 'https://example.org/x',
          date: '1980-10-06T00:00:00.000Z',
          rawDate: '06 Oct 1980',
        });
      });

      it('answers 404 problem+json for an id that does not exist', async function () {
        const response = await request(base, '/v1/9007199254740991');
        expectProblem(response, 404);
      });

      for (const id of ['abc', '0', '-1', '1.5', '1e3', '01', '9007199254740992', '99999999999999999999']) {
        it(`answers 400 naming "id" for ${id}`, async function () {
          const response = await request(base, `/v1/${id}`);
          expectProblem(response, 400);
          expect(response.body.errors).to.deep.equal([{ parameter: 'id', detail: 'must be an integer from 1 to 9007199254740991' }]);
        });
      }
    });

    describe('errors', function () {
      it('answers unknown routes with 404 problem+json', async function () {
        expectProblem(await request(base, '/v2/anything'), 404);
      });

      it('answers a wrong method with 405 problem+json and an Allow header', async function () {
        const del = await request(base, '/v1/5', { method: 'DELETE' });
        expectProblem(del, 405);
        expect(del.headers.get('allow')).to.contain('GET');
      });
    });
  });
}
