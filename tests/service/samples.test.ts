import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { foldText } from '../../service/src/api/domain/text.js';
import { postJson, request, startTestApp, type TestApp } from '../support/test-app.js';

describe('samples/records.json and the README walkthrough', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(async () => app?.close());

  it('is exactly what tooling/generate-records.ts prints with its defaults', function () {
    const generated = execFileSync('node_modules/.bin/tsx', ['tooling/generate-records.ts'], { encoding: 'utf8' });
    expect(readFileSync('samples/records.json', 'utf8')).to.equal(generated);
  });

  it('loads with some rejections, then the README query and get-by-id answer', async function () {
    const sample = readFileSync('samples/records.json', 'utf8');
    const loaded = await postJson(app.baseUrl, '/v1/bulk', sample);
    expect(loaded.status).to.equal(200);
    expect(loaded.body.inserted).to.be.within(90, 99);
    expect(loaded.body.inserted + loaded.body.rejected.length).to.equal(100);
    expect(loaded.body.ids[0]).to.equal(1);

    const found = await request(app.baseUrl, '/v1/?before=2020-01-01&after=2012-01-01&contains=confort');
    expect(found.status).to.equal(200);
    expect(found.body.items.length).to.be.greaterThan(0);
    for (const item of found.body.items) {
      expect(foldText(item.title), 'accent-insensitive, as promised').to.contain('confort');
      expect(item.date >= '2012-01-01' && item.date < '2020-01-01').to.equal(true);
    }
    expect((await request(app.baseUrl, '/v1/1')).status).to.equal(200);
  });
});
