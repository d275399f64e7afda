import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
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
import { generateTestKey } from '../support/jwks-server.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expect401, get, post } from './auth-helpers.js';

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
