import { expect } from 'chai';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';
import { expect401, get, useAuthApp } from './auth-helpers.js';

describe('authentication and authorization', function () {
  const { rsaIdp, ecIdp, app, pastTheInterval } = useAuthApp();

  describe('key rotation and JWKS outages', function () {
    it('refetches the JWKS for an unknown kid at most once per interval, and accepts a newly published key', async function () {
      const rotated = generateTestKey('RS256');
      pastTheInterval();
      const fetchesBefore = rsaIdp.fetches;
      const early = rsaIdp.sign({}, rotated);
      expect401(await get(app(), '/v1/', early), early);
      expect(rsaIdp.fetches).to.equal(fetchesBefore + 1);

      rsaIdp.keys.push(rotated);
      expect401(await get(app(), '/v1/', early), early);
      expect(rsaIdp.fetches, 'within the interval, an unknown kid is not fetched for again').to.equal(fetchesBefore + 1);
      pastTheInterval();
      expect((await get(app(), '/v1/', rsaIdp.sign({}, rotated))).status).to.equal(200);
      expect((await get(app(), '/v1/', rsaIdp.sign({}, rotated))).status).to.equal(200);
      expect(rsaIdp.fetches, 'the new key is cached after one more fetch').to.equal(fetchesBefore + 2);
    });

    it('lets requests arriving together with a newly published kid wait for the one fetch it takes, and accepts them all', async function () {
      // They got 401 "unknown signing key" while the first one's fetch, which found the key, was under way.
      const rotated = generateTestKey('RS256');
      rsaIdp.keys.push(rotated);
      pastTheInterval();
      const fetchesBefore = rsaIdp.fetches;
      const responses = await Promise.all(Array.from({ length: 8 }, () => get(app(), '/v1/', rsaIdp.sign({}, rotated))));
      expect(responses.map((response) => response.status)).to.deep.equal(Array(8).fill(200));
      expect(rsaIdp.fetches).to.equal(fetchesBefore + 1);
    });

    it('keeps accepting cached keys while the JWKS endpoint is down, and answers 503 for unknown ones', async function () {
      const cachedToken = ecIdp.sign();
      expect((await get(app(), '/v1/', cachedToken)).status).to.equal(200);
      await ecIdp.stop();
      try {
        expect((await get(app(), '/v1/', ecIdp.sign())).status).to.equal(200);
        pastTheInterval();
        const unknown = ecIdp.sign({}, generateTestKey('ES256'));
        const started = Date.now();
        const response = await get(app(), '/v1/', unknown);
        expect(Date.now() - started).to.be.below(3000);
        expect(response.status).to.equal(503);
        // The next fetch is due in 600 ms: come back in a second.
        expect(response.headers.get('retry-after')).to.equal('1');
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
        // Until then, no fetch, and still the outage: a 401 would tell the client to drop a token
        // the issuer may have just rotated to.
        const fetches = ecIdp.fetches;
        const again = await get(app(), '/v1/', unknown);
        expect(again.status, 'the same token again, before the next fetch is due').to.equal(503);
        expect(again.headers.get('retry-after')).to.equal('1');
        expect(ecIdp.fetches).to.equal(fetches);
      } finally {
        await ecIdp.start();
      }
    });
  });
});

describe('removed keys', function () {
  const idp = new JwksServer();
  let app: TestApp;
  let skippedMs = 0;
  before(async function () {
    idp.keys = [generateTestKey('ES256'), generateTestKey('RS256')];
    await idp.start();
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]), AUTH_JWKS_CACHE_SECONDS: '1' }, undefined, { now: () => Date.now() + skippedMs });
  });
  after(async function () {
    await app?.close();
    await idp.stop();
  });

  it('stop working once the key cache expires', async function () {
    const [retired, current] = idp.keys as [ReturnType<typeof generateTestKey>, ReturnType<typeof generateTestKey>];
    expect((await get(app, '/v1/', idp.sign({}, retired))).status).to.equal(200);
    idp.keys = [current];
    expect((await get(app, '/v1/', idp.sign({}, retired))).status, 'within the 1 s the key set is kept').to.equal(200);
    skippedMs += 1000;
    expect401(await get(app, '/v1/', idp.sign({}, retired)));
    expect((await get(app, '/v1/', idp.sign({}, current))).status).to.equal(200);
  });
});

/**
 * RFC 7517 4.5: keys of different types may share a kid as equivalent alternatives (an issuer
 * moving from RS256 to ES256 publishes both under one name). The set was kept by kid alone, the
 * later key replacing the earlier, so tokens signed with the other one were refused.
 */
describe('an RSA and an EC key published under one kid', function () {
  const idp = new JwksServer();
  let app: TestApp;
  const rsa = generateTestKey('RS256');
  const ec = generateTestKey('ES256');
  const shared = { ...ec, kid: rsa.kid, jwk: { ...ec.jwk, kid: rsa.kid } };
  before(async function () {
    await idp.start();
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]), AUTH_JWKS_CACHE_SECONDS: '1' });
  });
  after(async function () {
    await app?.close();
    await idp.stop();
  });

  for (const order of ['RSA first', 'EC first']) {
    it(`accepts tokens signed with either, the set listing ${order}`, async function () {
      idp.keys = order === 'RSA first' ? [rsa, shared] : [shared, rsa];
      // Past the 1 s the previous set is kept: this set is fetched.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await get(app, '/v1/', idp.sign({}, rsa))).status, 'RS256').to.equal(200);
      expect((await get(app, '/v1/', idp.sign({}, shared))).status, 'ES256').to.equal(200);
      const other = generateTestKey('ES256');
      const forged = idp.sign({}, { ...other, kid: rsa.kid });
      expect401(await get(app, '/v1/', forged), forged);
    });
  }
});

describe('a flood of tokens with made-up kids from a trusted issuer', function () {
  const idp = new JwksServer();
  let app: TestApp;
  before(async function () {
    idp.keys = [generateTestKey('ES256')];
    await idp.start();
    // The default of 10 fetches a minute; keys kept 1 s, so the real key's entry expires during the flood.
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]), AUTH_JWKS_CACHE_SECONDS: '1' });
  });
  after(async function () {
    await app?.close();
    await idp.stop();
  });

  it('cannot lock real tokens out, and costs the issuer a bounded number of fetches', async function () {
    expect((await get(app, '/v1/', idp.sign())).status).to.equal(200);
    const fetchesBefore = idp.fetches;
    const flood = async () => {
      for (let i = 0; i < 15; i += 1) {
        const token = idp.sign({}, generateTestKey('ES256'));
        expect401(await get(app, '/v1/', token), token);
      }
    };
    await flood();
    // Past the real key's 1 s lifetime in real time (the lockout ran on jwks-rsa's own clock), the flood going on.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await flood();
    expect((await get(app, '/v1/', idp.sign())).status, 'a real token during the flood').to.equal(200);
    expect(idp.fetches - fetchesBefore, 'JWKS fetches the flood caused').to.be.at.most(2);
  });
});

/**
 * An issuer whose endpoint sends its headers and then stalls, or drips a byte at a time, must not
 * hold requests: each fetch has a deadline for the whole answer, after which a stale key set keeps
 * serving. Before, a stalled fetch never settled, and every later request needing that issuer's
 * keys waited on it for good.
 */
describe('a JWKS endpoint that stalls mid-answer', function () {
  const idp = new JwksServer();
  let app: TestApp;
  let skippedMs = 0;
  before(async function () {
    idp.keys = [generateTestKey('ES256')];
    await idp.start();
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]), AUTH_JWKS_TIMEOUT_MS: '300', AUTH_JWKS_CACHE_SECONDS: '1' }, undefined, { now: () => Date.now() + skippedMs });
  });
  after(async function () {
    await app?.close();
    await idp.stop();
  });
  const timed = async (token: string) => {
    const started = Date.now();
    const response = await request(app.baseUrl, '/v1/', { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    return { status: response.status, ms: Date.now() - started };
  };

  for (const fault of ['stall', 'drip'] as const) {
    it(`answers 503 within the fetch deadline when there are no keys yet (${fault})`, async function () {
      idp.fault = fault;
      skippedMs += 10_000;
      const { status, ms } = await timed(idp.sign());
      expect(status).to.equal(503);
      expect(ms).to.be.below(2000);
    });
  }

  /** A key set fetched fresh, then the endpoint stalling and the clock `laterMs` on. */
  const stalledAfterAFreshSet = async (laterMs: number) => {
    idp.fault = null;
    skippedMs += 10_000;
    expect((await timed(idp.sign())).status).to.equal(200);
    idp.fault = 'stall';
    skippedMs += laterMs;
  };

  it('refreshes a key set past half its age in the background: requests do not wait for the fetch', async function () {
    // Every request arriving as the set expired waited for its refresh, up to the fetch deadline.
    await stalledAfterAFreshSet(600);
    const fetches = idp.fetches;
    const halfway = await timed(idp.sign());
    expect(halfway.status).to.equal(200);
    expect(halfway.ms, 'past half the set\'s age: served at once').to.be.below(200);
    await waitFor('the background fetch', async () => idp.fetches > fetches);
    await new Promise((resolve) => setTimeout(resolve, 400)); // past its 300 ms deadline
    // Past the full age, the stalled refresh having failed: still served at once, from the old set.
    skippedMs += 500;
    const expired = await timed(idp.sign());
    expect(expired.status).to.equal(200);
    expect(expired.ms, 'past the set\'s age, its last refresh failed').to.be.below(200);
  });

  it('serves with the stale key set once a stalled refresh passes its deadline, and takes the fresh set once the endpoint answers', async function () {
    await stalledAfterAFreshSet(10_000);
    for (let i = 0; i < 3; i += 1) {
      const { status, ms } = await timed(idp.sign());
      expect(status, `request ${i}`).to.equal(200);
      expect(ms, `request ${i}`).to.be.below(1000);
    }
    idp.fault = null;
    const rotated = generateTestKey('ES256');
    idp.keys.push(rotated);
    skippedMs += 10_000;
    await waitFor('the fresh key set', async () => (await timed(idp.sign({}, rotated))).status === 200);
  });
});

describe('an issuer whose keys cannot be fetched, in the service\'s log', function () {
  this.timeout(60_000);
  const idp = new JwksServer();
  let service: ServiceProcess | null = null;
  after(async function () {
    await service?.stop();
    await idp.stop();
  });

  it('logs each failed fetch once, not each request it fails (a flood of made-up kids during an outage logged two lines apiece)', async function () {
    idp.keys = [generateTestKey('ES256')];
    await idp.start();
    // A fetch every 2 s at most for a kid the set lacks: the 20 requests below fall within one interval.
    service = await ServiceProcess.start({ DATABASE_URL: ':memory:', AUTH_MODE: 'required', AUTH_ISSUERS: JSON.stringify([idp.trusted]), AUTH_JWKS_REQUESTS_PER_MINUTE: '30' });
    const read = (token: string) => fetch(`${service!.baseUrl}/v1/`, { headers: { authorization: `Bearer ${token}` } });
    expect((await read(idp.sign())).status).to.equal(200);
    await idp.stop();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    // Together: the first starts a fetch (which fails), the others wait for it and fail on it.
    const tokens = Array.from({ length: 20 }, () => idp.sign({}, generateTestKey('ES256')));
    const statuses = await Promise.all(tokens.map(async (token) => (await read(token)).status));
    expect(statuses).to.deep.equal(Array(20).fill(503));
    const problems = () => service!.logs.filter((line) => Number(line.level) >= 40);
    await waitFor('the 20 request lines written', async () => service!.logs.filter((line) => line.msg === 'request' && line.status === 503).length === 20, 5000, 20);
    expect(problems().map((line) => line.msg)).to.deep.equal(["an issuer's keys could not be fetched: tokens signed by keys not cached are answered 503 until a fetch succeeds"]);
    expect(problems()[0]).to.deep.include({ issuer: idp.issuer, jwksUri: idp.jwksUri });
    expect((await read(idp.sign())).status, 'the cached key still serves').to.equal(200);
  });
});
