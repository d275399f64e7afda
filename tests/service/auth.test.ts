import { createHmac, generateKeyPairSync } from 'node:crypto';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { generateTestKey, type TestKey } from '../support/jwks-server.js';
import { request } from '../support/test-app.js';
import { expect401, get, post, useAuthApp } from './auth-helpers.js';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('authentication and authorization', function () {
  const { rsaIdp, ecIdp, app, pastTheInterval } = useAuthApp();

  describe('valid tokens', function () {
    it('lets an RS256 token with records:read search and get', async function () {
      const token = rsaIdp.sign({ scope: 'records:read' });
      expect((await get(app(), '/v1/', token)).status).to.equal(200);
      expect((await get(app(), '/v1/999999', token)).status).to.equal(404);
    });

    it('lets an ES256 token with records:write load records', async function () {
      const response = await post(app(), ecIdp.sign({ scope: 'records:write' }));
      expect(response.status).to.equal(200);
      expect(response.body.inserted).to.equal(1);
    });

    it('reads scopes from an scp array as well as the scope string', async function () {
      const token = rsaIdp.sign({ scope: undefined, scp: ['records:read'] });
      expect((await get(app(), '/v1/', token)).status).to.equal(200);
    });

    it('reads scp as a space-separated string too, as Azure AD sends it (its tokens were 403)', async function () {
      expect((await get(app(), '/v1/', rsaIdp.sign({ scope: undefined, scp: 'profile records:read' }))).status).to.equal(200);
      expect((await get(app(), '/v1/', rsaIdp.sign({ scope: ['records:read'] }))).status).to.equal(200);
    });

    it('accepts the scheme in any case', async function () {
      const token = rsaIdp.sign({ scope: 'records:read' });
      expect((await get(app(), '/v1/', undefined, { authorization: `bearer ${token}` })).status).to.equal(200);
    });
  });

  describe('scopes', function () {
    it('answers 403 insufficient_scope when the scope is missing', async function () {
      const readOnly = rsaIdp.sign({ scope: 'records:read' });
      const response = await post(app(), readOnly);
      expect(response.status).to.equal(403);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).to.equal('Bearer realm="records", error="insufficient_scope", scope="records:write"');
      const writeOnly = rsaIdp.sign({ scope: 'records:write' });
      expect((await get(app(), '/v1/1', writeOnly)).status).to.equal(403);
    });

    it('does not treat a scope prefix or a scope in another claim as the scope', async function () {
      expect((await get(app(), '/v1/', rsaIdp.sign({ scope: 'records:readonly' }))).status).to.equal(403);
      expect((await get(app(), '/v1/', rsaIdp.sign({ scope: '', roles: ['records:read'] }))).status).to.equal(403);
    });

    it('stores nothing for a write without the write scope', async function () {
      const before = await app().runtime.db.knex('records').count({ n: '*' });
      await post(app(), rsaIdp.sign({ scope: 'records:read' }));
      expect(await app().runtime.db.knex('records').count({ n: '*' })).to.deep.equal(before);
    });
  });

  describe('rejected tokens', function () {
    it('refuses a token naming critical header parameters, which this verifier cannot understand (RFC 7515)', async function () {
      const [key] = rsaIdp.keys;
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: rsaIdp.issuer, aud: rsaIdp.audience, sub: 'user-1', scope: 'records:read', iat: now, exp: now + 300 };
      const token = jwt.sign(claims, key!.privateKey, { algorithm: 'RS256', header: { alg: 'RS256', kid: key!.kid, crit: ['x-must-check'], 'x-must-check': true } as jwt.JwtHeader });
      expect401(await get(app(), '/v1/', token), token);
    });

    it('leaves RSA keys under 2048 bits out of an issuer\'s key set', async function () {
      const pair = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const weak: TestKey = { kid: 'weak-1024', alg: 'RS256', ...pair, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid: 'weak-1024', alg: 'RS256', use: 'sig' } };
      rsaIdp.keys.push(weak);
      try {
        const now = Math.floor(Date.now() / 1000);
        const claims = { iss: rsaIdp.issuer, aud: rsaIdp.audience, sub: 'user-1', scope: 'records:read', iat: now, exp: now + 300 };
        const token = jwt.sign(claims, weak.privateKey, { algorithm: 'RS256', keyid: weak.kid, allowInsecureKeySizes: true });
        pastTheInterval();
        expect401(await get(app(), '/v1/', token), token);
        expect((await get(app(), '/v1/', rsaIdp.sign({ scope: 'records:read' }))).status, 'the set\'s other keys still serve').to.equal(200);
      } finally {
        rsaIdp.keys = rsaIdp.keys.filter((key) => key !== weak);
      }
    });

    it('answers 401 without a token, with a malformed header, and for other schemes; the challenge names an error only when a bearer token was tried (it said invalid_token to requests that sent none)', async function () {
      const missing = await get(app(), '/v1/');
      expect401(missing, undefined, { tokenSent: false });
      expect((missing.body as { detail: string }).detail).to.contain('missing bearer token');
      expect401(await get(app(), '/v1/', undefined, { authorization: 'Basic dXNlcjpwYXNz' }), undefined, { tokenSent: false });
      const malformed = await get(app(), '/v1/', undefined, { authorization: 'Bearer' });
      expect401(malformed);
      expect(malformed.headers.get('www-authenticate')).to.contain('error_description="malformed authorization header"');
      expect401(await get(app(), '/v1/', 'not-a-jwt'));
    });

    it('ignores tokens in the query string and in cookies', async function () {
      const token = rsaIdp.sign();
      // No bearer token in the Authorization header: the challenge alone.
      expect401(await request(app().baseUrl, `/v1/?access_token=${token}`), token, { tokenSent: false });
      expect401(await get(app(), '/v1/', undefined, { cookie: `access_token=${token}; token=${token}` }), token, { tokenSent: false });
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
      // jsonwebtoken's decode throws on a JWT-typed payload that is not JSON, and returns a null one.
      ['a token whose payload is not JSON', () => `${b64({ alg: 'RS256', typ: 'JWT' })}.${Buffer.from('not json').toString('base64url')}.x`],
      ['a token whose payload is null', () => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(null)}.x`],
      ['a token whose payload is an array', () => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64([1])}.x`],
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
      'a token whose payload is not JSON': 'malformed token',
      'a token whose payload is null': 'malformed token',
    };
    for (const [name, make] of cases) {
      it(`answers 401 for ${name}, without echoing it`, async function () {
        const token = make();
        const response = await get(app(), '/v1/', token);
        expect401(response, token);
        if (reasons[name]) {
          expect(response.body.detail).to.equal(`Authentication failed: ${reasons[name]}.`);
          expect(response.headers.get('www-authenticate')).to.contain(`error_description="${reasons[name]}"`);
        }
      });
    }

    it('honours a small clock tolerance', async function () {
      const now = Math.floor(Date.now() / 1000);
      expect((await get(app(), '/v1/', rsaIdp.sign({ exp: now - 3 }))).status).to.equal(200);
      expect((await get(app(), '/v1/', rsaIdp.sign({ nbf: now + 3 }))).status).to.equal(200);
    });
  });

  it('serves its own JWKS without a token', async function () {
    const response = await get(app(), '/.well-known/jwks.json');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ keys: [] });
  });
});
