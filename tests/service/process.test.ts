import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Client, fetch as undiciFetch } from 'undici';
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

describe('graceful shutdown under load', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-shutdown-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('completes every request sent before readiness turned 503, then exits 0', async function () {
    const service = await ServiceProcess.start({
      DATABASE_URL: join(dir, 'records.sqlite'),
      SHUTDOWN_DRAIN_SECONDS: '1.5',
      SHUTDOWN_TIMEOUT_SECONDS: '10',
    });
    try {
      // Keep-alive clients, as a gateway would hold them.
      const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
      let notReadyAt = Infinity;
      let stopping = false;
      const outcomes: Array<{ sentAt: number; ok: boolean; detail: string }> = [];

      const client = async (n: number) => {
        while (!stopping) {
          const sentAt = Date.now();
          try {
            const path = n % 2 === 0 ? '/v1/?limit=5' : '/v1/bulk';
            const init =
              n % 2 === 0
                ? {}
                : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ title: `load ${n}`, date: '2020-01-01' }] }) };
            const response = await undiciFetch(`${service.baseUrl}${path}`, { ...init, dispatcher: agent });
            await response.arrayBuffer();
            outcomes.push({ sentAt, ok: response.status === 200, detail: String(response.status) });
          } catch (error) {
            outcomes.push({ sentAt, ok: false, detail: String((error as Error).cause ?? error) });
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      const watchReadiness = async () => {
        while (!stopping) {
          try {
            // A new connection per probe, as the kubelet makes.
            const response = await undiciFetch(`${service.baseUrl}/readyz`, { headers: { connection: 'close' } });
            await response.arrayBuffer();
            if (response.status === 503 && notReadyAt === Infinity) notReadyAt = Date.now();
          } catch {
            if (notReadyAt === Infinity) notReadyAt = Date.now();
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };

      const running = [...Array.from({ length: 6 }, (_, n) => client(n)), watchReadiness()];
      await waitFor('requests in flight before the signal', async () => outcomes.length >= 60, 30_000, 10);
      service.signal('SIGTERM');
      const exitCode = await service.exitCode;
      stopping = true;
      await Promise.all(running);
      await agent.close();

      const beforeNotReady = outcomes.filter((outcome) => outcome.sentAt < notReadyAt);
      expect(notReadyAt).to.be.below(Infinity);
      expect(beforeNotReady.length).to.be.greaterThan(50);
      expect(beforeNotReady.filter((outcome) => !outcome.ok), 'failed requests sent before readiness turned 503').to.deep.equal([]);
      // During the drain delay the service keeps serving: requests sent after readiness turned 503 still succeed for a while.
      expect(outcomes.filter((outcome) => outcome.sentAt >= notReadyAt && outcome.ok).length).to.be.greaterThan(0);
      expect(exitCode).to.equal(0);
    } finally {
      await service.stop();
    }
  });
});

describe('graceful shutdown with keep-alive clients that keep sending', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'records-keepalive-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers every request, with Connection: close once the drain ends, and never resets a connection', async function () {
    const service = await ServiceProcess.start({ DATABASE_URL: join(dir, 'records.sqlite'), SHUTDOWN_DRAIN_SECONDS: '1', SHUTDOWN_TIMEOUT_SECONDS: '10' });
    try {
      const failures: string[] = [];
      let answered = 0;
      let closeAnswers = 0;
      let signalledAt = Infinity;
      // Each client loops on its own keep-alive connection, opening a new one when told to close,
      // until a new connection is refused (nothing was sent on it, so a gateway retries elsewhere).
      // Anything else (a reset, a connection closed under a request) is a failure.
      const client = async () => {
        for (;;) {
          const connection = new Client(service.baseUrl, { keepAliveTimeout: 30_000, pipelining: 1 });
          try {
            for (;;) {
              const response = await connection.request({ path: '/v1/1', method: 'GET' });
              await response.body.arrayBuffer();
              answered += 1;
              if (response.headers.connection === 'close') {
                closeAnswers += 1;
                break;
              }
              // Idle for a moment between requests, as a pooled upstream connection is.
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
            }
          } catch (error) {
            const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
            if (code !== 'ECONNREFUSED') failures.push(`${String(code ?? error)} at +${Date.now() - signalledAt} ms`);
            return;
          } finally {
            await connection.destroy().catch(() => undefined);
          }
        }
      };
      const running = Array.from({ length: 8 }, () => client());
      await waitFor('requests answered before the signal', async () => answered >= 120, 30_000, 10);
      signalledAt = Date.now();
      service.signal('SIGTERM');
      await Promise.all(running);
      expect(await service.exitCode).to.equal(0);
      expect(failures, 'requests that failed other than by a refused new connection').to.deep.equal([]);
      expect(answered).to.be.greaterThan(100);
      expect(closeAnswers, 'answers with Connection: close after the drain').to.equal(8);
    } finally {
      await service.stop();
    }
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
