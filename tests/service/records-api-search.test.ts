import { expect } from 'chai';
import { ENGINES } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { postJson, request, type JsonResponse } from '../support/test-app.js';
import { expectProblem, useRecordsApp } from './records-api-helpers.js';

for (const engine of ENGINES) {
  describe(`records API on ${engine}`, function () {
    const { base } = useRecordsApp(engine);

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
        const response = await postJson(base(), '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(titles.length);
      });

      async function search(params: Record<string, string>): Promise<JsonResponse> {
        return request(base(), `/v1/?${new URLSearchParams(params)}`);
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

      it('finds Greek words by any part, whichever form of sigma, and Hangul by whole syllables', async function () {
        const own = uniqueTag('g');
        const items = ['ΚΟΣΜΟΣ', 'λόγος', '한국어'].map((title) => ({ title: `${own} ${title}`, date: '2020-01-01' }));
        expect((await postJson(base(), '/v1/bulk', { items })).status).to.equal(200);
        const found = async (term: string) => ((await search({ contains: `${own} ${term}` })).body.items as Array<{ title: string }>).map((item) => item.title.replace(`${own} `, ''));
        expect(await found('ΚΟΣ')).to.deep.equal(['ΚΟΣΜΟΣ']);
        expect(await found('λόγοσ')).to.deep.equal(['λόγος']);
        expect(await found('ΛΟΓΟΣ')).to.deep.equal(['λόγος']);
        expect(await found('한국')).to.deep.equal(['한국어']);
        expect(await found('하')).to.deep.equal([]);
      });

      it('takes %, _ and \\ literally, never as wildcards', async function () {
        expect(await titlesFor({ contains: `100% pure ${tag}` })).to.deep.equal(['100% pure']);
        expect(await titlesFor({ contains: `under_score ${tag}` })).to.deep.equal(['under_score']);
        expect(await titlesFor({ contains: `back\\slash ${tag}` })).to.deep.equal(['back\\slash']);
        expect(await titlesFor({ contains: `% pure ${tag}` })).to.deep.equal(['100% pure']);
        expect(await titlesFor({ contains: `_ ${tag}` })).to.deep.equal([]);
      });

      it('matches a NUL character like any other, in titles, uris and terms', async function () {
        // SQLite's LIKE stops at a NUL in the pattern or the value: matching there must not use it.
        const own = uniqueTag('nul');
        const items = [
          { title: `nul\u0000inside ${own}`, uri: `https://example.org/nul\u0000${own}`, date: '2021-01-01' },
          { title: `plain ${own}`, uri: `https://example.org/${own}`, date: '2021-01-02' },
        ];
        expect((await postJson(base(), '/v1/bulk', { items })).body.inserted).to.equal(2);
        const found = async (params: Record<string, string>) => (await titlesFor(params)).map((title) => title.replace(` ${own}`, ''));
        expect(await found({ contains: `inside ${own}` })).to.deep.equal(['nul\u0000inside']);
        expect(await found({ contains: `\u0000inside ${own}` })).to.deep.equal(['nul\u0000inside']);
        expect(await found({ contains: `${own}\u0000` })).to.deep.equal([]);
        expect(await found({ contains: `plain\u0000${own}` })).to.deep.equal([]);
        expect(await found({ contains: own, uri: `\u0000${own}` })).to.deep.equal(['nul\u0000inside']);
        expect(await found({ contains: own, uri: `${own}\u0000` })).to.deep.equal([]);
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

      it('answers 400 for a term that is not percent-encoded UTF-8, rather than search for U+FFFD', async function () {
        for (const [query, parameter] of [['contains=%FF', 'contains'], ['uri=%ED%A0%80', 'uri'], ['contains=ab%C3', 'contains'], ['contain%73=%FF', 'contains']] as const) {
          const response = await request(base(), `/v1/?${query}`);
          expectProblem(response, 400);
          expect(response.body.errors, query).to.deep.equal([{ parameter, detail: 'must be valid Unicode (percent-encoded UTF-8)' }]);
        }
        // U+FFFD itself, encoded as UTF-8, is a term like any other; so is a % that encodes nothing.
        expect((await request(base(), '/v1/?contains=%EF%BF%BD')).status).to.equal(200);
        const percent = await request(base(), `/v1/?contains=100%%20pure%20${tag}`);
        expect(percent.status, JSON.stringify(percent.body)).to.equal(200);
        expect(percent.body.items.map((item: { title: string }) => item.title)).to.deep.equal([`100% pure ${tag}`]);
      });

      it('answers 400 for a repeated parameter', async function () {
        const response = await request(base(), '/v1/?contains=a&contains=b');
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
        await postJson(base(), '/v1/bulk', { items: dates.map((date) => ({ title: `${pageTag} ${date}`, date })) });

        const page1 = await search({ contains: pageTag, limit: '2' });
        // Inserted before the cursor (never shown), at the cursor's own date (after it by id), and later.
        await postJson(base(), '/v1/bulk', {
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
  });
}
