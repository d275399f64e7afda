import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { loadSigningKey } from '../../service/src/api/auth/signing-key.js';
import { createTokenMinter } from '../../service/src/api/auth/token-minter.js';
import { JwksServer, generateTestKey } from '../support/jwks-server.js';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';

describe('request logs', function () {
  const idp = new JwksServer();
  const dir = mkdtempSync(join(tmpdir(), 'records-logs-'));
  let service: ServiceProcess;

  before(async function () {
    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    service = await ServiceProcess.start({
      DATABASE_URL: join(dir, 'records.sqlite'),
      AUTH_MODE: 'required',
      AUTH_ISSUERS: JSON.stringify([idp.trusted]),
    });
  });
  after(async function () {
    await service?.stop();
    await idp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const lineFor = (requestId: string) => service.logs.find((line) => line.msg === 'request' && line.requestId === requestId);

  it('writes one JSON line per request with the route, status, duration, request id and subject', async function () {
    const token = idp.sign({ sub: 'alice', scope: 'records:read' });
    const response = await fetch(`${service.baseUrl}/v1/12345`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'kong-abc-123' } });
    expect(response.status).to.equal(404);
    expect(response.headers.get('x-request-id')).to.equal('kong-abc-123');
    await waitFor('the request log line', async () => lineFor('kong-abc-123') !== undefined);
    const line = lineFor('kong-abc-123');
    expect(line).to.include({ method: 'GET', route: '/v1/:id', status: 404, subject: 'alice', issuer: idp.issuer, level: 30 });
    expect(line?.durationMs).to.be.a('number');
    expect(service.logs.filter((entry) => entry.requestId === 'kong-abc-123')).to.have.length(1);
    expect(service.rawOutput.join('\n')).not.to.contain(token);
    expect(service.rawOutput.join('\n')).not.to.contain(token.split('.')[2]);
  });

  it('generates a request id when none (or an unsafe one) is given, and never logs bodies', async function () {
    const secretTitle = 'do-not-log-this-title';
    const response = await fetch(`${service.baseUrl}/v1/bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad id <script>', authorization: 'Bearer nope' },
      body: JSON.stringify({ items: [{ title: secretTitle, date: '2020-01-01' }] }),
    });
    expect(response.status).to.equal(401);
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(requestId).to.match(/^[0-9a-f-]{36}$/);
    await waitFor('the request log line', async () => lineFor(requestId) !== undefined);
    expect(lineFor(requestId)).to.include({ route: '/v1/bulk', status: 401 });
    expect(service.rawOutput.join('\n')).not.to.contain(secretTitle);
    expect(service.rawOutput.join('\n')).not.to.contain('Bearer nope');
  });
});

describe('the service as a token issuer, as a process', function () {
  it('serves its JWKS from SERVICE_KEY_FILE and its minted tokens verify', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'records-issuer-'));
    const keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const service = await ServiceProcess.start({ DATABASE_URL: join(dir, 'r.sqlite'), SERVICE_KEY_FILE: keyFile, SERVICE_ISSUER: 'https://records.test/' });
    try {
      const jwks = (await (await fetch(`${service.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; kty: string }> };
      expect(jwks.keys.map((key) => [key.kty, key.kid])).to.deep.equal([['RSA', loadSigningKey(keyFile).kid]]);
      const token = createTokenMinter({ key: loadSigningKey(keyFile), issuer: 'https://records.test/', name: 'records' }).token({ audience: 'x', scope: 's' });
      // Verified against the key the service serves, as any verifier of its tokens would.
      const served = createPublicKey({ key: jwks.keys[0] as unknown as JsonWebKey, format: 'jwk' });
      const claims = jwt.verify(token, served, { algorithms: ['RS256'], issuer: 'https://records.test/', audience: 'x' }) as jwt.JwtPayload;
      expect(claims.scope).to.equal('s');
      expect(jwt.decode(token, { complete: true })?.header.kid).to.equal(jwks.keys[0]?.kid);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the listening address', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-listen-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('without HOST answers on IPv4 and IPv6 alike, as a pod on a dual-stack or IPv6-only cluster is probed', function () {
    // Without HOST the service listens on every address: in a network namespace of the test's own
    // (only its loopback), never on the machine's. An empty variable counts as unset (shared/environment.ts).
    const probe = `const port = 8000;
      const answer = (address) => fetch(\`http://\${address}:\${port}/healthz\`).then((response) => response.status, (error) => String(error.cause ?? error));
      const deadline = Date.now() + 20000;
      (async () => {
        while (Date.now() < deadline && (await answer('127.0.0.1')) !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
        console.log(JSON.stringify({ ipv4: await answer('127.0.0.1'), ipv6: await answer('[::1]') }));
      })();`;
    const script = `set -e
      ip link set lo up
      PORT=8000 HOST= SHUTDOWN_DRAIN_SECONDS=0 DATABASE_URL='${join(dir, 'r.sqlite')}' CACHE=off AUTH_MODE=disabled LOG_LEVEL=warn '${process.execPath}' --import tsx service/src/main.ts serve &
      service=$!
      trap 'kill $service; wait $service || true' EXIT
      '${process.execPath}' -e "$PROBE"`;
    const run = spawnSync('unshare', ['--net', 'bash', '-c', script], { encoding: 'utf8', env: { ...process.env, PROBE: probe }, timeout: 50_000 });
    expect(run.status, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) as string)).to.deep.equal({ ipv4: 200, ipv6: 200 });
  });
});
