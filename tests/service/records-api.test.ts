import { expect } from 'chai';
import { ENGINES } from '../support/databases.js';
import { buildItem, uniqueTag } from '../support/factories.js';
import { postJson, request } from '../support/test-app.js';
import { expectProblem, useRecordsApp } from './records-api-helpers.js';

for (const engine of ENGINES) {
  describe(`records API on ${engine}`, function () {
    const { app, base } = useRecordsApp(engine);

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
          const response = await postJson(base(), '/v1/bulk', { items: [buildItem({ date: raw })] });
          expect(response.status).to.equal(200);
          expect(response.body).to.deep.include({ inserted: 1, rejected: [] });
          const stored = await request(base(), `/v1/${response.body.ids[0]}`);
          expect(stored.body).to.include({ date: iso, rawDate: raw });
        });
      }

      const rejected: Array<[unknown, RegExp]> = [
        ['May 23', /no year/],
        ['2021-02-30', /impossible date: day 30/],
        ['2021-01-01T25:00', /impossible date: hour 25/],
        ['01/02/2003', /ambiguous/],
        ['Sunday, 06-Nov-94 08:49:37 GMT', /two-digit year/],
        ['1 Nov 16 13:23 GMT', /two-digit year/],
        ['Tue, 1 Nov 61 00:00:00 GMT', /two-digit year/],
        ['yesterday', /unrecognised/],
        ['', /empty/],
        [20210101, /must be a string/],
        [null, /required/],
      ];
      for (const [raw, reason] of rejected) {
        it(`rejects the date ${JSON.stringify(raw)} with a reason and stores the valid items`, async function () {
          const tag = uniqueTag();
          const items = [buildItem({ title: `${tag} ok` }), buildItem({ title: `${tag} bad`, date: raw })];
          const response = await postJson(base(), '/v1/bulk', { items });
          expect(response.status).to.equal(200);
          expect(response.body.inserted).to.equal(1);
          expect(response.body.rejected).to.have.length(1);
          expect(response.body.rejected[0]).to.include({ index: 1, field: 'date' });
          expect(response.body.rejected[0].message).to.match(reason);
          expect(await app().countTagged(tag)).to.equal(1);
        });
      }

      it('returns ids in the order of the stored items, skipping rejected ones', async function () {
        const tag = uniqueTag();
        const items = [0, 1, 2, 3, 4].map((n) => buildItem({ title: `${tag} #${n}`, date: n === 2 ? 'May 23' : '2010-01-0' + (n + 1) }));
        const response = await postJson(base(), '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(4);
        expect(response.body.rejected.map((r: { index: number }) => r.index)).to.deep.equal([2]);
        const titles = await Promise.all(response.body.ids.map(async (id: number) => (await request(base(), `/v1/${id}`)).body.title));
        expect(titles).to.deep.equal([`${tag} #0`, `${tag} #1`, `${tag} #3`, `${tag} #4`]);
      });

      it('stores text with quotes, placeholders, backslashes and NUL exactly as sent', async function () {
        const tag = uniqueTag();
        const tricky = [`${tag} it's "?" ?? \\ \\' ; -- /*`, `${tag} ${'\u0000'}\n\t%_ 𝄞 é`];
        const items = tricky.map((title) => buildItem({ title, uri: `https://example.org/a?b=${title.length}&c='?'`, date: '2020-01-01' }));
        const response = await postJson(base(), '/v1/bulk', { items });
        expect(response.body.inserted).to.equal(2);
        const stored = await Promise.all(response.body.ids.map(async (id: number) => (await request(base(), `/v1/${id}`)).body));
        expect(stored.map((record: { title: string; uri: string }) => [record.title, record.uri])).to.deep.equal(items.map((item) => [item.title, item.uri]));
        const found = await request(base(), `/v1/?contains=${encodeURIComponent(`${tag} it's "?"`)}`);
        expect(found.body.items.map((record: { title: string }) => record.title)).to.deep.equal([tricky[0]]);
      });

      it('accepts null, empty and missing title and uri, and enforces their lengths', async function () {
        const tag = uniqueTag();
        const response = await postJson(base(), '/v1/bulk', {
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
          response.body.ids.map(async (id: number) => (await request(base(), `/v1/${id}`)).body),
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
        const response = await postJson(base(), '/v1/bulk?atomic=true', { items });
        expectProblem(response, 422);
        expect(response.body.rejected).to.deep.equal([{ index: 1, field: 'date', message: 'impossible date: day 30 is out of range' }]);
        expect(response.body.errors).to.deep.equal([{ pointer: '#/items/1/date', detail: 'impossible date: day 30 is out of range' }]);
        expect(await app().countTagged(tag)).to.equal(0);
      });

      it('with atomic=true stores everything when every item is valid', async function () {
        const tag = uniqueTag();
        const response = await postJson(base(), '/v1/bulk?atomic=true', { items: [buildItem({ title: tag }), buildItem({ title: tag })] });
        expect(response.status).to.equal(200);
        expect(response.body.inserted).to.equal(2);
        expect(await app().countTagged(tag)).to.equal(2);
      });

      it('rejects an atomic value other than true or false', async function () {
        const response = await postJson(base(), '/v1/bulk?atomic=yes', { items: [] });
        expectProblem(response, 400);
        expect(response.body.errors).to.deep.equal([{ parameter: 'atomic', detail: 'must be true or false' }]);
      });
    });

    describe('GET /v1/:id', function () {
      it('returns the stored record', async function () {
        const item = buildItem({ title: 'Un titre élégant', uri: 'https://example.org/x', date: '06 Oct 1980' });
        const created = await postJson(base(), '/v1/bulk', { items: [item] });
        const id = created.body.ids[0];
        const response = await request(base(), `/v1/${id}`);
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
        const response = await request(base(), '/v1/9007199254740991');
        expectProblem(response, 404);
      });

      for (const id of ['abc', '0', '-1', '1.5', '1e3', '01', '9007199254740992', '99999999999999999999']) {
        it(`answers 400 naming "id" for ${id}`, async function () {
          const response = await request(base(), `/v1/${id}`);
          expectProblem(response, 400);
          expect(response.body.errors).to.deep.equal([{ parameter: 'id', detail: 'must be an integer from 1 to 9007199254740991' }]);
        });
      }
    });
  });
}
