import { expect } from 'chai';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { uniqueTag } from '../support/factories.js';
import { request, startTestApp, type JsonResponse, type TestApp } from '../support/test-app.js';
import { expectProblem } from './records-api-helpers.js';

/** Sends `text` as it is and reads the answer until the server closes the connection. */
function exchange(baseUrl: string, text: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(text.split('\r\n')[0])}: ${answer}`)));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

/** The status, headers (lower-cased names) and parsed body of a raw HTTP/1.1 answer. */
function parsed(answer: string): { status: number; headers: Record<string, string>; body: any } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: body === '' ? null : JSON.parse(body) };
}

/**
 * Requests at the edges of HTTP: how a bulk body is declared (media type, charset, encoding,
 * absence), methods a path does not serve, and what Node would answer before Koa. Each is
 * answered as problem+json naming what is wrong, and stores nothing it should not.
 */
describe('HTTP at the edges', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(async () => app?.close());

  const post = (body: string | Uint8Array, headers: Record<string, string>, path = '/v1/bulk'): Promise<JsonResponse> =>
    request(app.baseUrl, path, { method: 'POST', headers, body });

  it('refuses a charset other than UTF-8 however its Content-Type is punctuated, JSON and NDJSON alike', async function () {
    const tag = uniqueTag();
    const item = { title: `${tag} é`, date: '2020-01-01' };
    for (const type of ['application/json; charset=iso-8859-1;', 'application/json;charset="ISO-8859-1"', 'application/json; charset=latin1,', 'application/json; charset']) {
      const response = await post(JSON.stringify({ items: [item] }), { 'content-type': type });
      expectProblem(response, 415);
      expect(response.body.errors, type).to.deep.equal([{ parameter: 'Content-Type', detail: response.body.errors[0].detail }]);
    }
    for (const type of ['application/x-ndjson; charset=iso-8859-1;', 'application/x-ndjson; charset=latin1,']) {
      expectProblem(await post(`${JSON.stringify(item)}\n`, { 'content-type': type }), 415);
    }
    expect(await app.countTagged(tag)).to.equal(0);
    // Spelled differently, still JSON in UTF-8.
    for (const type of ['Application/JSON', 'application/json ; charset="UTF-8"', 'application/json;charset=utf-8']) {
      const response = await post(JSON.stringify({ items: [item] }), { 'content-type': type });
      expect(response.status, `${type}: ${JSON.stringify(response.body)}`).to.equal(200);
    }
    expect(await app.countTagged(tag)).to.equal(3);
  });

  it('refuses a compressed body with 415 and Accept-Encoding: identity, instead of reading its bytes as text', async function () {
    const tag = uniqueTag();
    const item = { title: tag, date: '2020-01-01' };
    const json = await post(gzipSync(JSON.stringify({ items: [item] })), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expectProblem(json, 415);
    expect(json.headers.get('accept-encoding')).to.equal('identity');
    expect(json.body.errors).to.deep.equal([{ parameter: 'Content-Encoding', detail: 'must be absent or identity' }]);
    // An NDJSON stream's compressed bytes were split into garbage lines: 200, every line rejected.
    expectProblem(await post(gzipSync(`${JSON.stringify(item)}\n`), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' }), 415);
    expect(await app.countTagged(tag)).to.equal(0);
    expect((await post(JSON.stringify({ items: [item] }), { 'content-type': 'application/json', 'content-encoding': 'identity' })).status).to.equal(200);
  });

  it('answers a POST without a body as it answers an empty body, not as a wrong media type', async function () {
    const none = parsed(await exchange(app.baseUrl, `POST /v1/bulk HTTP/1.1\r\nHost: records\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n`));
    const empty = await post('', { 'content-type': 'application/json' });
    expectProblem(empty, 400);
    expect(none.status).to.equal(400);
    expect(none.body).to.deep.equal(empty.body);
  });

  it('replays a keyed request retried with its media type spelled differently', async function () {
    const tag = uniqueTag();
    const body = JSON.stringify({ items: [{ title: tag, date: '2020-01-01' }] });
    const key = `k-${tag}`;
    const first = await post(body, { 'content-type': 'application/json', 'idempotency-key': key });
    const retry = await post(body, { 'content-type': 'Application/JSON; charset=utf-8', 'idempotency-key': key });
    expect(first.status).to.equal(200);
    expect(retry.status, JSON.stringify(retry.body)).to.equal(200);
    expect(retry.headers.get('idempotent-replayed')).to.equal('true');
    expect(retry.body).to.deep.equal(first.body);
    expect(await app.countTagged(tag)).to.equal(1);
  });

  it('answers methods /v1/bulk does not serve with 405 and Allow: POST, not as a record id', async function () {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await request(app.baseUrl, '/v1/bulk', { method });
      expectProblem(response, 405);
      expect(response.headers.get('allow'), method).to.equal('POST');
    }
    // No body to check against the contract: fetch itself.
    const head = await fetch(`${app.baseUrl}/v1/bulk`, { method: 'HEAD' });
    expect(head.status).to.equal(405);
    expect(head.headers.get('allow')).to.equal('POST');
    const options = await fetch(`${app.baseUrl}/v1/bulk`, { method: 'OPTIONS' });
    expect(options.status).to.equal(200);
    expect(options.headers.get('allow')).to.equal('POST');
  });

  it('names fields in problems by JSON pointers escaped as RFC 6901 asks, and shortens unknown names', async function () {
    const items = [{ 'a/b~c': 1, date: '2020-01-01' }, { '\ud800': 1, date: '2020-01-01' }];
    const item = await post(JSON.stringify({ items }), { 'content-type': 'application/json' }, '/v1/bulk?atomic=true');
    expectProblem(item, 422);
    // A lone surrogate cannot be percent-encoded: it is named as U+FFFD.
    expect(item.body.errors).to.deep.equal([
      { pointer: '#/items/0/a~1b~0c', detail: 'unknown field' },
      { pointer: '#/items/1/%EF%BF%BD', detail: 'unknown field' },
    ]);
    const long = 'k'.repeat(200);
    const top = await post(JSON.stringify({ 'x/y': 1, [long]: 2, 'é #': 3, items: [] }), { 'content-type': 'application/json' });
    expectProblem(top, 400);
    expect(top.body.errors).to.deep.equal([
      { pointer: '#/x~1y', detail: 'unknown field' },
      { pointer: `#/${'k'.repeat(64)}%E2%80%A6`, detail: 'unknown field' },
      { pointer: '#/%C3%A9%20%23', detail: 'unknown field' },
    ]);
    // A body of many unknown fields is named by its first hundred.
    const many = await post(JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f${i}`, i]))), { 'content-type': 'application/json' });
    expectProblem(many, 400);
    expect(many.body.errors).to.have.length(101);
    expect(many.body.errors.at(-1)).to.deep.equal({ pointer: '#/items', detail: 'must be an array' });
  });

  it('answers an Expect it cannot meet with a 417 problem, and CONNECT with a 405 problem, where Node answered bare or closed', async function () {
    const expectation = parsed(await exchange(app.baseUrl, `GET /v1/?limit=1 HTTP/1.1\r\nHost: records\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n`));
    expect(expectation.status).to.equal(417);
    expect(expectation.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(expectation.body).to.deep.include({ status: 417, errors: [{ parameter: 'Expect', detail: 'only 100-continue is supported' }] });

    const tunnel = parsed(await exchange(app.baseUrl, `CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n`));
    expect(tunnel.status).to.equal(405);
    expect(tunnel.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(tunnel.body).to.include({ type: '/problems/method-not-allowed', status: 405 });
  });
});
