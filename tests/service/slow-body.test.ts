import { expect } from 'chai';
import { request as httpRequest } from 'node:http';
import { ENGINES } from '../support/databases.js';
import { uniqueTag } from '../support/factories.js';
import { postJson, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * A bulk body trickled slower than BODY_MIN_BYTES_PER_SECOND (after 5 s of grace) is refused with
 * 408: it no longer holds a bulk slot, nor an NDJSON load's transaction, until the request timeout.
 */

/** Sends the headers and `first`, then nothing more; resolves with the answer, if one comes. */
function stalledPost(baseUrl: string, type: string, first: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}/v1/bulk`, { method: 'POST', headers: { 'content-type': type, 'transfer-encoding': 'chunked' } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.write(first);
  });
}

// An NDJSON load on MariaDB holds a transaction while it reads; a JSON body is read first.
const CASES = [
  ['mysql', 'application/x-ndjson', (tag: string) => `${JSON.stringify({ title: `${tag} a`, date: '2020-01-01' })}\n`],
  ['sqlite', 'application/json', (tag: string) => `{"items": [{"title": "${tag} a", "date": "2020-01-01"}`],
] as const;

describe('a bulk body sent too slowly', function () {
  this.timeout(30_000);
  const cases = CASES.filter(([engine]) => ENGINES.includes(engine));
  const apps = new Map<string, TestApp>();
  before(async () => {
    for (const [engine] of cases) apps.set(engine, await startTestApp(engine, { BULK_CONCURRENCY: '1', BODY_MIN_BYTES_PER_SECOND: '1mb' }));
  });
  after(async () => {
    for (const app of apps.values()) await app.close();
  });

  // Side by side, each on its own service: each waits out the 5 s grace.
  it(`is refused with 408, stores nothing, and frees its slot: ${cases.map(([engine, type]) => `${type} on ${engine}`).join(', ')}`, async function () {
    await Promise.all(
      cases.map(async ([engine, type, first]) => {
        const app = apps.get(engine)!;
        const tag = uniqueTag();
        const stalled = stalledPost(app.baseUrl, type, first(tag));
        // With one slot, this waits behind the stalled request until that one is refused.
        const next = postJson(app.baseUrl, '/v1/bulk', { items: [{ title: `${tag} next`, date: '2020-01-02' }] });
        const answer = await stalled;
        expect(answer.status, `${type} on ${engine}`).to.equal(408);
        expect(JSON.parse(answer.body), `${type} on ${engine}`).to.include({ type: '/problems/body-too-slow', status: 408 });
        expect((await next).status, `${type} on ${engine}: the next write`).to.equal(200);
        expect(await app.countTagged(tag), `${type} on ${engine}`).to.equal(1);
      }),
    );
  });
});

describe('REQUEST_TIMEOUT_SECONDS', function () {
  let app: TestApp;
  before(async () => {
    // The body rate all but off: only the request timeout bounds this request.
    app = await startTestApp('sqlite', { REQUEST_TIMEOUT_SECONDS: '2', BODY_MIN_BYTES_PER_SECOND: '1' });
  });
  after(async () => app?.close());

  it('ends a request still unfinished after that many seconds, not up to 30 s later (Node checks timeouts every 30 s by default)', async function () {
    this.timeout(8_000);
    const started = Date.now();
    // A timed-out request's connection is closed (server.ts): the client sees it hang up.
    const ended = await stalledPost(app.baseUrl, 'application/json', '{"items": [').catch((error: Error) => error);
    expect(ended).to.be.an('error').with.property('message', 'socket hang up');
    expect(Date.now() - started).to.be.within(2_000, 5_000);
  });
});

describe('an answer sent before the body was read whole', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(async () => app?.close());

  it('closes the connection, so the unread rest of the body is not left on it', async function () {
    const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      // Declared over the 10 MiB limit: refused before the body is read.
      const request = httpRequest(`${app.baseUrl}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(20 * 1024 * 1024) } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection });
        request.destroy();
      });
      request.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      request.write('{"items": [');
    });
    expect(answer.status).to.equal(413);
    expect(answer.connection).to.equal('close');
  });

  it('otherwise reads and discards the rest for a moment: a client still sending gets its answer and finishes without a reset', async function () {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const outcome = await new Promise<{ status: number; sent: number; error: string | null }>((resolve) => {
      let status = 0;
      let sent = 0;
      // Refused before its body is read (a media type the API does not take), still being sent.
      const request = httpRequest(`${app.baseUrl}/v1/bulk`, { method: 'POST', headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' } }, (response) => {
        status = response.statusCode ?? 0;
        response.resume();
      });
      request.on('error', (error) => resolve({ status, sent, error: error.message }));
      const send = () => {
        if (sent === 32) return request.end(() => setTimeout(() => resolve({ status, sent, error: null }), 100));
        sent += 1;
        request.write(chunk, () => setTimeout(send, 5));
      };
      send();
    });
    expect(outcome).to.deep.equal({ status: 415, sent: 32, error: null });
  });
});
