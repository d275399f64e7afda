import { expect } from 'chai';
import { loadConfig } from '../../service/src/api/config.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { createRuntime, type Runtime } from '../../service/src/api/runtime.js';
import { createTestDatabase } from '../support/databases.js';
import { request, startTestApp, type TestApp } from '../support/test-app.js';

/** The service graph without a server, for checks that need no HTTP. */
async function buildRuntime(databaseUrl: string): Promise<Runtime> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, AUTH_MODE: 'disabled', LOG_LEVEL: 'silent' });
  return createRuntime(config, createLogger(config));
}

describe('health endpoints', function () {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('mysql');
  });
  after(async () => app?.close());

  it('answers liveness without checking dependencies', async function () {
    const response = await request(app.baseUrl, '/healthz');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'ok' });
  });

  it('is ready when the database answers and migrations are current', async function () {
    const response = await request(app.baseUrl, '/readyz');
    expect(response.status).to.equal(200);
    expect(response.body).to.deep.equal({ status: 'ready' });
  });

  it('is not ready, with the reason, when migrations are not applied', async function () {
    const database = await createTestDatabase('mysql');
    const runtime = await buildRuntime(database.url);
    try {
      expect(await runtime.readiness()).to.deep.equal({
        ready: false,
        reason: 'database migrations are not current; run `records migrate`',
      });
    } finally {
      await runtime.close();
      await database.drop();
    }
  });

  it('is not ready while the database is unreachable, and ready while only Redis is', async function () {
    const unreachable = await startTestApp('sqlite', { REDIS_URL: 'redis://127.0.0.1:1', CACHE_TIMEOUT_MS: '50' });
    try {
      expect((await request(unreachable.baseUrl, '/readyz')).status, 'Redis down leaves the service ready').to.equal(200);
      const runtime = await buildRuntime('mysql://records:records@127.0.0.1:1/records');
      try {
        const readiness = await runtime.readiness();
        expect(readiness.ready).to.equal(false);
        expect(readiness).to.have.property('reason').that.matches(/^database unreachable/);
      } finally {
        await runtime.close();
      }
    } finally {
      await unreachable.close();
    }
  });

  it('is not ready as soon as shutdown begins, and closes connections only once the listener closes', async function () {
    const other = await startTestApp('sqlite');
    try {
      other.runtime.beginShutdown();
      const response = await request(other.baseUrl, '/readyz');
      expect(response.status).to.equal(503);
      expect(response.body).to.deep.equal({ status: 'not ready', reason: 'shutting down' });
      // Still draining: keep-alive connections stay open (a reconnect would meet a closing listener).
      expect(response.headers.get('connection')).to.equal('keep-alive');
      other.runtime.beginClosing();
      expect((await request(other.baseUrl, '/readyz')).headers.get('connection')).to.equal('close');
    } finally {
      await other.close();
    }
  });
});
