import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { generateRecords } from '../../tooling/generate-records.js';
import { imageNode } from '../../tooling/image-node.js';
import { ENGINES } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { ndjsonChunks, postNdjsonStream, sampleRss } from '../../tooling/ndjson-stream.js';
import { ServiceProcess } from '../support/service-process.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';

/**
 * With its length, a small body is read where it arrives; chunked (no Content-Length), in pieces
 * of 64 bytes, every stream is read on a write worker (data/preparer-pool.ts).
 */
function postNdjson(app: TestApp, body: string | Buffer, query = '', chunked = false) {
  const bytes = Buffer.from(body);
  const sent = chunked
    ? new ReadableStream({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 64) controller.enqueue(bytes.subarray(at, at + 64));
          controller.close();
        },
      })
    : bytes;
  return request(app.baseUrl, `/v1/bulk${query}`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: sent, duplex: 'half' } as RequestInit);
}

for (const [engine, chunked] of ENGINES.flatMap((each) => [[each, false] as const, [each, true] as const])) {
  describe(`NDJSON bulk loads on ${engine}, sent ${chunked ? 'chunked (read on a worker)' : 'with its length'}`, function () {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(engine, { BODY_LIMIT: '2kb', NDJSON_BODY_LIMIT: '200kb', NDJSON_MAX_LINE_BYTES: '300' });
    });
    after(async () => app?.close());

    const count = (tag: string) => app.countTagged(tag);

    it('stores valid lines, reports invalid ones by line number, and returns id ranges', async function () {
      const tag = uniqueTag();
      const body = [
        JSON.stringify({ title: `${tag} one`, date: 'March 30 1985' }),
        '',
        JSON.stringify({ title: `${tag} bad`, date: 'May 23' }),
        '{"title": "broken',
        JSON.stringify({ title: `${tag} two`, uri: 'https://example.org/2', date: '2014-03-08T15' }),
        JSON.stringify([1, 2]),
        JSON.stringify({ title: `${tag} three`, date: '06 Oct 1980' }),
      ].join('\n');
      const response = await postNdjson(app, `${body}\n`, '', chunked);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      expect(response.body.inserted).to.equal(3);
      expect(response.body.rejectedCount).to.equal(3);
      expect(response.body.rejected).to.deep.equal([
        { line: 3, field: 'date', message: 'date has no year' },
        { line: 4, field: 'line', message: 'malformed JSON' },
        { line: 6, field: 'item', message: 'must be an object' },
      ]);
      const [[first, last]] = response.body.idRanges;
      expect(last - first).to.equal(2);
      expect((await request(app.baseUrl, `/v1/${first}`)).body.title).to.equal(`${tag} one`);
      expect((await request(app.baseUrl, `/v1/${last}`)).body).to.include({ title: `${tag} three`, date: '1980-10-06T00:00:00.000Z' });
    });

    it('with atomic=true stores nothing when any line is invalid, and reports them all', async function () {
      const tag = uniqueTag();
      const lines = [
        JSON.stringify({ title: `${tag} a`, date: '2020-01-01' }),
        JSON.stringify({ title: `${tag} b`, date: '2021-02-30' }),
        JSON.stringify({ title: `${tag} c`, date: '2020-01-01' }),
        JSON.stringify({ title: `${tag} d`, date: '' }),
      ];
      const response = await postNdjson(app, lines.join('\n'), '?atomic=true', chunked);
      expect(response.status).to.equal(422);
      expect(response.headers.get('content-type')).to.match(/problem\+json/);
      expect(response.body.rejected.map((r: { line: number }) => r.line)).to.deep.equal([2, 4]);
      expect(await count(tag)).to.equal(0);
    });

    it('rejects a line longer than the line limit without buffering it, and goes on', async function () {
      const tag = uniqueTag();
      const long = JSON.stringify({ title: `${tag} ${'x'.repeat(400)}`, date: '2020-01-01' });
      const response = await postNdjson(app, [long, JSON.stringify({ title: `${tag} short`, date: '2020-01-01' })].join('\n'), '', chunked);
      expect(response.body.rejected).to.deep.equal([{ line: 1, field: 'line', message: 'line is longer than 300 bytes' }]);
      expect(response.body.inserted).to.equal(1);
    });

    it('refuses a body in another charset than UTF-8 (415), as JSON bodies are', async function () {
      const tag = uniqueTag();
      const body = `${JSON.stringify({ title: `${tag} caf\u00e9`, date: '2020-01-01' })}\n`;
      const response = await request(app.baseUrl, '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/x-ndjson; charset=latin1' }, body });
      expect(response.status).to.equal(415);
      expect(await count(tag)).to.equal(0);
      const utf8 = await request(app.baseUrl, '/v1/bulk', { method: 'POST', headers: { 'content-type': 'application/x-ndjson; charset=UTF-8' }, body });
      expect(utf8.status).to.equal(200);
    });

    it('rejects a line that is not valid UTF-8', async function () {
      const body = Buffer.concat([Buffer.from('{"title": "'), Buffer.from([0xc3, 0x28]), Buffer.from('", "date": "2020-01-01"}\n')]);
      const response = await postNdjson(app, body, '', chunked);
      expect(response.body.rejected).to.deep.equal([{ line: 1, field: 'line', message: 'line is not valid UTF-8' }]);
    });

    it('is not bound by the JSON body limit, only by its own', async function () {
      const tag = uniqueTag();
      const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ title: `${tag} ${i}`, date: '2020-01-01' }));
      const body = lines.join('\n');
      expect(body.length).to.be.greaterThan(2000);
      const response = await postNdjson(app, body, '', chunked);
      expect(response.body.inserted).to.equal(300);
      expect(response.body.idRanges).to.have.length(1);

      const tooBig = `${lines.join('\n')}\n`.repeat(30);
      expect(tooBig.length).to.be.greaterThan(200_000);
      const refused = await postNdjson(app, tooBig.replaceAll(tag, uniqueTag()), '', chunked);
      expect(refused.status).to.equal(413);
    });

    it('stores nothing of a stream that goes over its limit part-way', async function () {
      const tag = uniqueTag();
      const line = JSON.stringify({ title: `${tag} row`, date: '2020-01-01' });
      async function* chunks() {
        for (let i = 0; i < 8000; i += 1) yield `${line}\n`;
      }
      // Streamed without Content-Length, so the limit is only found while reading.
      const response = await postNdjsonStream(app.baseUrl, chunks()).catch((error: Error) => error);
      if (!(response instanceof Error)) expect(response.status).to.equal(413);
      expect(await count(tag)).to.equal(0);
    });

    it('serves reads, searches and readiness while an upload is still streaming', async function () {
      const tag = uniqueTag();
      const stored = await postNdjson(app, `${JSON.stringify({ title: `${tag} stored`, date: '2020-01-01' })}\n`);
      const [[id]] = stored.body.idRanges;
      let finish: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        finish = resolve;
      });
      async function* chunks() {
        yield `${JSON.stringify({ title: `${tag} streamed`, date: '2021-01-01' })}\n`;
        await held;
      }
      const upload = postNdjsonStream(app.baseUrl, chunks());
      let uploaded = '';
      void upload.then(
        (response) => (uploaded = `answered ${response.status}`),
        (error: Error) => (uploaded = `failed: ${error.message}`),
      );
      try {
        // The upload's write transaction is open once it holds a connection of the writing pool.
        const pool = app.runtime.db.knex.client.pool as { numUsed(): number };
        await waitFor('the upload to open its transaction', async () => pool.numUsed() > 0);
        const signal = AbortSignal.timeout(10_000);
        const read = await request(app.baseUrl, `/v1/${id}`, { signal });
        expect(read.status).to.equal(200);
        expect(read.body.title).to.equal(`${tag} stored`);
        const search = await request(app.baseUrl, `/v1/?contains=${encodeURIComponent(tag)}`, { signal });
        expect(search.body.items.map((item: { title: string }) => item.title)).to.deep.equal([`${tag} stored`]);
        expect((await request(app.baseUrl, '/readyz', { signal })).status).to.equal(200);
        expect(uploaded, 'the upload must still be open').to.equal('');
      } finally {
        finish();
      }
      expect((await upload).status).to.equal(200);
      expect(await count(tag)).to.equal(2);
    });

    it('caps the reported rejections and counts them all', async function () {
      const lines = Array.from({ length: 150 }, () => JSON.stringify({ date: 'not a date' }));
      const response = await postNdjson(app, lines.join('\n'), '', chunked);
      expect(response.body.rejected).to.have.length(100);
      expect(response.body.rejectedCount).to.equal(150);
      expect(response.body.inserted).to.equal(0);
    });
  });
}

describe('NDJSON streaming memory', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-ndjson-'));
  // The compiled service, as the image runs it: tsx's loader adds about 10 MB to every thread.
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads 100k records in one request with the service RSS under 200 MB', async function () {
    // The image's own heap setting (Dockerfile ENV NODE_OPTIONS) and node flags: RSS is bounded by design, not by luck.
    const { nodeOptions, nodeFlags } = imageNode();
    expect(nodeOptions).to.match(/--max-old-space-size=\d+/);
    const service = await ServiceProcess.start({ DATABASE_URL: join(dir, 'r.sqlite'), CACHE: 'off', NODE_OPTIONS: nodeOptions }, { compiled: true, nodeFlags });
    try {
      const rss = sampleRss(service.pid);
      const response = await postNdjsonStream(service.baseUrl, ndjsonChunks(generateRecords(100_000, 3, 0)));
      const peak = rss.stop();
      const result = (await response.json()) as { inserted: number; rejectedCount: number };
      expect(response.status).to.equal(200);
      expect(result.inserted).to.equal(100_000);
      expect(peak, `peak RSS ${Math.round(peak / 2 ** 20)} MiB`).to.be.below(200 * 2 ** 20);
    } finally {
      await service.stop();
    }
  });
});
