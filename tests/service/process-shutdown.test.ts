import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, Client, fetch as undiciFetch } from 'undici';
import { expect } from 'chai';
import { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';

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
