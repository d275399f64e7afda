import { expect } from 'chai';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
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
        expect(response.headers.get('retry-after')).to.equal('5');
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
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
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await flood();
    expect((await get(app, '/v1/', idp.sign())).status, 'a real token during the flood').to.equal(200);
    expect(idp.fetches - fetchesBefore, 'JWKS fetches the flood caused').to.be.at.most(2);
  });
});
