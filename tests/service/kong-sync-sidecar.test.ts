import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { pino } from 'pino';
import { loadKongSyncConfig } from '../../service/src/kong-sync/config.js';
import { createRedisProbe, runKongSync } from '../../service/src/kong-sync/kong-sync.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { OwnRedis } from '../support/redis-server.js';
import { BASE, StandInKong } from './kong-sync-helpers.js';

describe('records kong-sync as the sidecar runs it', function () {
  this.timeout(20_000);
  const idp = new JwksServer();
  const kong = new StandInKong();
  const redis = new OwnRedis();
  const dir = mkdtempSync(join(tmpdir(), 'kong-sync-'));

  before(async function () {
    idp.keys = [generateTestKey('RS256')];
    await idp.start();
    await kong.start();
    await redis.start();
    writeFileSync(join(dir, 'kong.yml'), BASE);
  });
  after(async function () {
    await idp.stop();
    await kong.stop();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads Kong, and reports keys, sync time and the rate limiter\'s Redis as metrics', async function () {
    const config = loadKongSyncConfig({
      KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]),
      KONG_SYNC_BASE_CONFIG: join(dir, 'kong.yml'),
      KONG_SYNC_ADMIN_URL: kong.url,
      KONG_SYNC_METRICS_PORT: '0',
      KONG_SYNC_METRICS_HOST: '127.0.0.1',
      KONG_SYNC_REDIS_URL: redis.url,
      LOG_LEVEL: 'silent',
    });
    const server = await runKongSync(config, createLogger(config));
    try {
      const metrics = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      expect(metrics).to.match(/^kong_jwks_keys\{consumer="identity-provider"\} 1$/m);
      expect(metrics).to.match(/^kong_ratelimit_redis_up 1$/m);
      expect(metrics).to.match(/^kong_jwks_sync_last_success_timestamp_seconds \d+/m);
      expect(kong.kids('identity-provider')).to.deep.equal([idp.keys[0]?.kid]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a rate limiter Redis that does not answer', async function () {
    const probe = createRedisProbe({ url: 'redis://127.0.0.1:1', password: null });
    try {
      expect(await probe.check()).to.equal(false);
    } finally {
      await probe.close();
    }
    const stopped = createRedisProbe({ url: redis.url, password: null });
    try {
      expect(await stopped.check()).to.equal(true);
      await redis.stop();
      expect(await stopped.check(), 'Redis stopped').to.equal(false);
    } finally {
      await stopped.close();
      await redis.start();
    }
  });

  it('logs why an issuer\'s key set was not fetched (the alert fired with nothing in the logs saying why), and reports no Redis it does not probe', async function () {
    const lines: Array<{ msg: string; consumer?: string; reason?: string }> = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const config = loadKongSyncConfig({
      KONG_SYNC_ISSUERS: JSON.stringify([
        { consumer: 'identity-provider', jwksUri: idp.jwksUri },
        { consumer: 'gone', jwksUri: 'http://127.0.0.1:1/.well-known/jwks.json' },
      ]),
      KONG_SYNC_BASE_CONFIG: join(dir, 'kong.yml'),
      KONG_SYNC_ADMIN_URL: kong.url,
      KONG_SYNC_METRICS_PORT: '0',
      KONG_SYNC_METRICS_HOST: '127.0.0.1',
      KONG_SYNC_INTERVAL_SECONDS: '5',
    });
    const server = await runKongSync(config, logger);
    try {
      const failures = lines.filter((line) => line.consumer === 'gone');
      expect(failures).to.have.length(1);
      expect(failures[0]?.msg).to.contain('JWKS not fetched');
      expect(failures[0]?.reason).to.match(/ECONNREFUSED|refused/);
      expect(kong.kids('identity-provider')).to.deep.equal([idp.keys[0]?.kid]);
      // No Redis to probe: its gauge is absent (it read 0, paging "Redis down" for a Redis nobody configured).
      const metrics = await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
      expect(metrics).to.match(/^kong_jwks_keys/m).and.not.to.match(/^kong_ratelimit_redis_up/m);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a bad issuer list, or a Redis password without its Redis, at start, naming the variable', function () {
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: '[{"consumer": "Bad Name", "jwksUri": "ftp://x"}]' })).to.throw(/KONG_SYNC_ISSUERS: must be a JSON list/);
    // It was ignored: the probe it was meant for never ran, and nothing said so.
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]), KONG_SYNC_REDIS_PASSWORD: 'secret' })).to.throw(/KONG_SYNC_REDIS_PASSWORD: set without KONG_SYNC_REDIS_URL/);
    // Accepted before: the consumer's own second entry counted as another issuer holding its kids
    // (a collision every cycle, and its alert), and Kong was given one username twice.
    const twice = [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }, { consumer: 'identity-provider', jwksUri: 'https://other.example/jwks.json' }];
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: JSON.stringify(twice) })).to.throw(/KONG_SYNC_ISSUERS: .*names a consumer twice/);
    // Accepted before and then dropped: every request went to /status or /config at the host's root.
    const issuers = JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]);
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: issuers, KONG_SYNC_ADMIN_URL: 'https://kong.example/kong-admin' })).to.throw(/KONG_SYNC_ADMIN_URL: must be the Admin API's origin/);
    // As the URL parser reads it: a backslash is a slash there.
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: issuers, KONG_SYNC_ADMIN_URL: 'https://kong.example\\kong-admin' })).to.throw(/KONG_SYNC_ADMIN_URL: must be the Admin API's origin/);
    for (const origin of ['https://[::1]:8444/', 'HTTPS://kong.example:8444']) expect(loadKongSyncConfig({ KONG_SYNC_ISSUERS: issuers, KONG_SYNC_ADMIN_URL: origin }).adminUrl).to.equal(origin);
  });

  it('fails to start with a message naming the metrics port when it is taken (an unhandled error event ended the process with a stack)', async function () {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const config = loadKongSyncConfig({
      KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]),
      KONG_SYNC_BASE_CONFIG: join(dir, 'kong.yml'),
      KONG_SYNC_ADMIN_URL: kong.url,
      KONG_SYNC_METRICS_PORT: String((taken.address() as AddressInfo).port),
      KONG_SYNC_METRICS_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    });
    try {
      const failure = await runKongSync(config, createLogger(config)).then(
        (server) => new Promise((resolve) => server.close(() => resolve(null))),
        (error: Error) => error,
      );
      expect(failure).to.be.an('error');
      expect((failure as Error).message).to.equal(`cannot serve metrics on 127.0.0.1:${config.metricsPort}`);
      expect(((failure as Error).cause as NodeJS.ErrnoException).code).to.equal('EADDRINUSE');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('ends a failed start with exit 1 and what failed, without a stack (an operator reads it in the pod\'s log)', function () {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'service/src/main.ts', 'kong-sync'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]), KONG_SYNC_BASE_CONFIG: join(dir, 'missing.yml'), LOG_LEVEL: 'silent' },
    });
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stderr).to.contain(`records: failed: ENOENT: no such file or directory, open '${join(dir, 'missing.yml')}'`).and.not.to.match(/\n\s+at /);
  });
});
