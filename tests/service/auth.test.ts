import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { loadConfig } from '../../service/src/api/config.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { createRuntime } from '../../service/src/api/runtime.js';
import { loadSigningKey } from '../../service/src/api/auth/signing-key.js';
import { createTokenMinter } from '../../service/src/api/auth/token-minter.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { request, startTestApp, type JsonResponse, type TestApp } from '../support/test-app.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function get(app: TestApp, path: string, token?: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return request(app.baseUrl, path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
}

function post(app: TestApp, token: string | undefined, items: unknown[] = [{ title: 'authorized', date: '2020-01-01' }]) {
  return request(app.baseUrl, '/v1/bulk', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ items }),
  });
}

function expect401(response: JsonResponse, token?: string) {
  expect(response.status, JSON.stringify(response.body)).to.equal(401);
  expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
  expect(response.headers.get('www-authenticate')).to.match(/^Bearer realm="records", error="invalid_token"/);
  if (token) {
    expect(JSON.stringify(response.body)).not.to.contain(token);
    expect(response.headers.get('www-authenticate')).not.to.contain(token);
  }
}

describe('authentication and authorization', function () {
  const rsaIdp = new JwksServer();
  const ecIdp = new JwksServer('records-internal');
  let app: TestApp;
  // Real time, moved past the unknown-kid interval (600 ms at 100 fetches a minute) when a test needs a refetch.
  let skippedMs = 0;
  const clock = { now: () => Date.now() + skippedMs };
  const pastTheInterval = () => (skippedMs += 600);

  before(async function () {
    rsaIdp.keys = [generateTestKey('RS256')];
    ecIdp.keys = [generateTestKey('ES256')];
    await rsaIdp.start();
    await ecIdp.start();
    app = await startTestApp('sqlite', {
      AUTH_MODE: 'required',
      AUTH_ISSUERS: JSON.stringify([rsaIdp.trusted, ecIdp.trusted]),
      AUTH_JWKS_REQUESTS_PER_MINUTE: '100',
    }, undefined, clock);
  });
  after(async function () {
    await app?.close();
    await rsaIdp.stop();
    await ecIdp.stop();
  });

  describe('valid tokens', function () {
    it('lets an RS256 token with records:read search and get', async function () {
      const token = rsaIdp.sign({ scope: 'records:read' });
      expect((await get(app, '/v1/', token)).status).to.equal(200);
      expect((await get(app, '/v1/999999', token)).status).to.equal(404);
    });

    it('lets an ES256 token with records:write load records', async function () {
      const response = await post(app, ecIdp.sign({ scope: 'records:write' }));
      expect(response.status).to.equal(200);
      expect(response.body.inserted).to.equal(1);
    });

    it('reads scopes from an scp array as well as the scope string', async function () {
      const token = rsaIdp.sign({ scope: undefined, scp: ['records:read'] });
      expect((await get(app, '/v1/', token)).status).to.equal(200);
    });

    it('accepts the scheme in any case', async function () {
      const token = rsaIdp.sign({ scope: 'records:read' });
      expect((await get(app, '/v1/', undefined, { authorization: `bearer ${token}` })).status).to.equal(200);
    });
  });

  describe('scopes', function () {
    it('answers 403 insufficient_scope when the scope is missing', async function () {
      const readOnly = rsaIdp.sign({ scope: 'records:read' });
      const response = await post(app, readOnly);
      expect(response.status).to.equal(403);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="records", error="insufficient_scope", scope="records:write"');
      const writeOnly = rsaIdp.sign({ scope: 'records:write' });
      expect((await get(app, '/v1/1', writeOnly)).status).to.equal(403);
    });

    it('does not treat a scope prefix or a scope in another claim as the scope', async function () {
      expect((await get(app, '/v1/', rsaIdp.sign({ scope: 'records:readonly' }))).status).to.equal(403);
      expect((await get(app, '/v1/', rsaIdp.sign({ scope: '', roles: ['records:read'] }))).status).to.equal(403);
    });

    it('stores nothing for a write without the write scope', async function () {
      const before = await app.runtime.db.knex('records').count({ n: '*' });
      await post(app, rsaIdp.sign({ scope: 'records:read' }));
      expect(await app.runtime.db.knex('records').count({ n: '*' })).to.deep.equal(before);
    });
  });

  describe('rejected tokens', function () {
    it('answers 401 without a token, with a malformed header, and for other schemes', async function () {
      const missing = await get(app, '/v1/');
      expect401(missing);
      expect(missing.headers.get('www-authenticate')).to.contain('missing bearer token');
      expect401(await get(app, '/v1/', undefined, { authorization: 'Bearer' }));
      expect401(await get(app, '/v1/', undefined, { authorization: 'Basic dXNlcjpwYXNz' }));
      expect401(await get(app, '/v1/', 'not-a-jwt'));
    });

    it('ignores tokens in the query string and in cookies', async function () {
      const token = rsaIdp.sign();
      expect401(await request(app.baseUrl, `/v1/?access_token=${token}`), token);
      expect401(await get(app, '/v1/', undefined, { cookie: `access_token=${token}; token=${token}` }), token);
    });

    const cases: Array<[string, () => string]> = [
      ['an expired token', () => rsaIdp.sign({ exp: Math.floor(Date.now() / 1000) - 60 })],
      ['a token whose nbf is in the future', () => rsaIdp.sign({ nbf: Math.floor(Date.now() / 1000) + 120 })],
      ['a token from an untrusted issuer', () => rsaIdp.sign({ iss: 'https://evil.example.test/' })],
      ['a token for another audience', () => rsaIdp.sign({ aud: 'someone-else' })],
      ['a token for the other issuer\'s audience', () => rsaIdp.sign({ aud: 'records-internal' })],
      ['a token without exp', () => rsaIdp.sign({ exp: undefined })],
      ['a token without sub', () => rsaIdp.sign({ sub: undefined })],
      [
        'a token with alg none',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: rsaIdp.issuer, aud: 'records', sub: 'x', scope: 'records:read', exp: now + 60 })}.`;
        },
      ],
      [
        'an HS256 token signed with the issuer\'s RSA public key (algorithm confusion)',
        () => {
          const key = rsaIdp.keys[0]!;
          const now = Math.floor(Date.now() / 1000);
          const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: key.kid })}.${b64({ iss: rsaIdp.issuer, aud: 'records', sub: 'x', scope: 'records:read', exp: now + 60 })}`;
          const publicPem = key.publicKey.export({ type: 'spki', format: 'pem' });
          return `${signingInput}.${createHmac('sha256', publicPem).update(signingInput).digest('base64url')}`;
        },
      ],
      [
        'a token whose payload was tampered with',
        () => {
          const [header, , signature] = rsaIdp.sign({ scope: 'records:read', sub: 'user-1' }).split('.');
          const now = Math.floor(Date.now() / 1000);
          return `${header}.${b64({ iss: rsaIdp.issuer, aud: 'records', sub: 'admin', scope: 'records:read', exp: now + 60 })}.${signature}`;
        },
      ],
      ['a token valid for 100 years', () => rsaIdp.sign({ exp: Math.floor(Date.now() / 1000) + 100 * 365 * 86_400 })],
      ['a token issued a year ago that expires in an hour', () => rsaIdp.sign({ iat: Math.floor(Date.now() / 1000) - 365 * 86_400, exp: Math.floor(Date.now() / 1000) + 3600 })],
      ['a token signed by a key the issuer never published', () => rsaIdp.sign({}, { ...generateTestKey('RS256'), kid: rsaIdp.keys[0]!.kid })],
    ];
    // The reason the service gives, where it is specific: the algorithm check comes before any key is used.
    const reasons: Record<string, string> = {
      'a token with alg none': 'algorithm not allowed',
      "an HS256 token signed with the issuer's RSA public key (algorithm confusion)": 'algorithm not allowed',
      'an expired token': 'token expired',
      'a token from an untrusted issuer': 'untrusted issuer',
      'a token valid for 100 years': 'token lives too long',
    };
    for (const [name, make] of cases) {
      it(`answers 401 for ${name}, without echoing it`, async function () {
        const token = make();
        const response = await get(app, '/v1/', token);
        expect401(response, token);
        if (reasons[name]) {
          expect(response.body.detail).to.equal(`Authentication failed: ${reasons[name]}.`);
          expect(response.headers.get('www-authenticate')).to.contain(`error_description="${reasons[name]}"`);
        }
      });
    }

    it('honours a small clock tolerance', async function () {
      const now = Math.floor(Date.now() / 1000);
      expect((await get(app, '/v1/', rsaIdp.sign({ exp: now - 3 }))).status).to.equal(200);
      expect((await get(app, '/v1/', rsaIdp.sign({ nbf: now + 3 }))).status).to.equal(200);
    });
  });

  describe('key rotation and JWKS outages', function () {
    it('refetches the JWKS for an unknown kid at most once per interval, and accepts a newly published key', async function () {
      const rotated = generateTestKey('RS256');
      pastTheInterval();
      const fetchesBefore = rsaIdp.fetches;
      const early = rsaIdp.sign({}, rotated);
      expect401(await get(app, '/v1/', early), early);
      expect(rsaIdp.fetches).to.equal(fetchesBefore + 1);

      rsaIdp.keys.push(rotated);
      expect401(await get(app, '/v1/', early), early);
      expect(rsaIdp.fetches, 'within the interval, an unknown kid is not fetched for again').to.equal(fetchesBefore + 1);
      pastTheInterval();
      expect((await get(app, '/v1/', rsaIdp.sign({}, rotated))).status).to.equal(200);
      expect((await get(app, '/v1/', rsaIdp.sign({}, rotated))).status).to.equal(200);
      expect(rsaIdp.fetches, 'the new key is cached after one more fetch').to.equal(fetchesBefore + 2);
    });

    it('keeps accepting cached keys while the JWKS endpoint is down, and answers 503 for unknown ones', async function () {
      const cachedToken = ecIdp.sign();
      expect((await get(app, '/v1/', cachedToken)).status).to.equal(200);
      await ecIdp.stop();
      try {
        expect((await get(app, '/v1/', ecIdp.sign())).status).to.equal(200);
        pastTheInterval();
        const unknown = ecIdp.sign({}, generateTestKey('ES256'));
        const started = Date.now();
        const response = await get(app, '/v1/', unknown);
        expect(Date.now() - started).to.be.below(3000);
        expect(response.status).to.equal(503);
        expect(response.headers.get('retry-after')).to.equal('5');
        expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      } finally {
        await ecIdp.start();
      }
    });
  });

  it('serves its own JWKS without a token', async function () {
    const response = await get(app, '/.well-known/jwks.json');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ keys: [] });
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

describe('the service as a token issuer', function () {
  const dir = mkdtempSync(join(tmpdir(), 'records-keys-'));
  const keyFile = join(dir, 'signing-key.pem');
  const issuer = 'https://records-a.internal.test/';
  let caller: TestApp;
  let callee: TestApp;

  before(async function () {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    caller = await startTestApp('sqlite', { SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: issuer, SERVICE_NAME: 'records-a' });
    callee = await startTestApp('sqlite', {
      AUTH_MODE: 'required',
      AUTH_ISSUERS: JSON.stringify([{ issuer, jwksUri: `${caller.baseUrl}/.well-known/jwks.json`, audience: 'records-b' }]),
    });
  });
  after(async function () {
    await callee?.close();
    await caller?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes its public key with a thumbprint kid', async function () {
    const response = await get(caller, '/.well-known/jwks.json');
    expect(response.body.keys).to.have.length(1);
    expect(response.body.keys[0]).to.include({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: loadSigningKey(keyFile).kid });
    expect(response.body.keys[0]).not.to.have.property('d');
  });

  it('mints tokens that a second instance verifies through that JWKS', async function () {
    const minter = createTokenMinter({ key: loadSigningKey(keyFile), issuer, name: 'records-a' });
    const token = minter.token({ audience: 'records-b', scope: 'records:read' });
    expect((await get(callee, '/v1/', token)).status).to.equal(200);
    expect((await post(callee, token)).status).to.equal(403);
    expect((await get(callee, '/v1/', minter.token({ audience: 'someone-else', scope: 'records:read' }))).status).to.equal(401);
  });

  it('caches minted tokens until shortly before they expire', function () {
    let now = Date.UTC(2030, 0, 1);
    const minter = createTokenMinter({ key: loadSigningKey(keyFile), issuer, name: 'records-a', now: () => now });
    const first = minter.token({ audience: 'records-b', scope: 'records:read', ttlSeconds: 300 });
    now += 260_000;
    expect(minter.token({ audience: 'records-b', scope: 'records:read', ttlSeconds: 300 })).to.equal(first);
    now += 15_000;
    expect(minter.token({ audience: 'records-b', scope: 'records:read', ttlSeconds: 300 })).not.to.equal(first);
  });

  it('prints a verifiable token from `records token`', async function () {
    const token = execFileSync(
      'node_modules/.bin/tsx',
      ['service/src/main.ts', 'token', '--aud', 'records-b', '--scope', 'records:read records:write', '--sub', 'operator'],
      { encoding: 'utf8', env: { ...process.env, SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: issuer, LOG_LEVEL: 'silent' } },
    ).trim();
    expect((await post(callee, token)).status).to.equal(200);
  });
});

describe('with no trusted issuers, the service trusts its own', function () {
  const dir = mkdtempSync(join(tmpdir(), 'records-self-'));
  const keyFile = join(dir, 'signing-key.pem');
  const issuer = 'http://records.records.svc.cluster.local:8000';
  let app: TestApp;

  before(async function () {
    writeFileSync(keyFile, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    app = await startTestApp('sqlite', { AUTH_MODE: 'required', SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: issuer });
  });
  after(async function () {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits tokens from `records token` (audience SERVICE_NAME) and refuses others', async function () {
    const token = execFileSync('node_modules/.bin/tsx', ['service/src/main.ts', 'token', '--aud', 'records', '--scope', 'records:read records:write'], {
      encoding: 'utf8',
      env: { ...process.env, SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: issuer, LOG_LEVEL: 'silent' },
    }).trim();
    expect((await post(app, token)).status).to.equal(200);
    expect((await get(app, '/v1/')).status).to.equal(401);
    const minter = createTokenMinter({ key: loadSigningKey(keyFile), issuer, name: 'records' });
    expect401(await get(app, '/v1/', minter.token({ audience: 'another-service', scope: 'records:read' })));
    const stranger = generateTestKey('ES256');
    const forged = jwt.sign({ scope: 'records:read', sub: 'mallory' }, stranger.privateKey, { algorithm: 'ES256', keyid: loadSigningKey(keyFile).kid, issuer, audience: 'records', expiresIn: 60 });
    const refused = await get(app, '/v1/', forged);
    expect(refused.status).to.equal(401);
    expect(refused.headers.get('www-authenticate')).to.contain('invalid token');
  });

  it('starts without a key when SERVICE_KEY_FILE names no file, but then needs issuers', async function () {
    const missing = join(dir, 'absent.pem');
    const config = loadConfig({ DATABASE_URL: join(dir, 'x.sqlite'), LOG_LEVEL: 'silent', AUTH_MODE: 'required', SERVICE_KEY_FILE: missing, SERVICE_ISSUER: issuer });
    let error: unknown;
    await createRuntime(config, createLogger(config)).catch((caught: unknown) => (error = caught));
    expect(String(error)).to.match(/AUTH_ISSUERS: at least one trusted issuer/);
  });
});
