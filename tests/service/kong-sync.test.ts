import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadKongSyncConfig } from '../../service/src/kong-sync/config.js';
import { createJwksSync } from '../../service/src/kong-sync/jwks-sync.js';
import { createKongAdmin, type KongAdmin } from '../../service/src/clients/kong-admin.js';
import { consumerOf, withConsumers } from '../../service/src/kong-sync/kong-consumers.js';
import { createRedisProbe, fetchJwksOver, runKongSync } from '../../service/src/kong-sync/kong-sync.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { generateTestKey, JwksServer, type TestKey } from '../support/jwks-server.js';
import { OwnRedis } from '../support/redis-server.js';

const BASE = `_format_version: "3.0"
services:
  - name: records
    url: http://records.records.svc.cluster.local:8000
consumers: []
`;

const configHash = (config: string) => createHash('sha256').update(config).digest('hex');

/** Kong's DB-less Admin API as far as the sync uses it: POST /config replaces, GET /status hashes. */
class StandInKong {
  config = BASE;
  loads = 0;
  server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/status') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ configuration_hash: configHash(this.config) }));
      if (req.method === 'POST' && req.url === '/config') {
        this.config = JSON.parse(body).config;
        this.loads += 1;
        return res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      }
      res.writeHead(404).end();
    });
  });
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  kids(consumer: string): string[] {
    const parsed = parse(this.config) as { consumers?: Array<{ username: string; jwt_secrets: Array<{ key: string }> }> };
    return (parsed.consumers ?? []).find((candidate) => candidate.username === consumer)?.jwt_secrets.map((secret) => secret.key).sort() ?? [];
  }
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('Kong key rotation: records kong-sync against a JWKS that rotates', function () {
  const idp = new JwksServer();
  const kong = new StandInKong();
  let admin: KongAdmin;
  let clock = Date.UTC(2030, 0, 1);
  const overlapMs = 60 * 60 * 1000;
  let oldKey: TestKey;
  let newKey: TestKey;

  before(async function () {
    oldKey = generateTestKey('RS256');
    newKey = generateTestKey('ES256');
    idp.keys = [oldKey];
    await idp.start();
    await kong.start();
    admin = createKongAdmin(kong.url);
  });
  after(async function () {
    await idp.stop();
    await kong.stop();
  });

  it('admits a rotated-in key within one interval, and refuses the retired key once the overlap has passed', async function () {
    const sync = createJwksSync({ issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }], base: BASE, admin, overlapMs, fetchJwks: (uri) => fetchJwksOver(uri), now: () => clock });
    await sync.cycle();
    expect(kong.kids('identity-provider')).to.deep.equal([oldKey.kid]);

    // The issuer publishes the new key beside the old one: the next cycle admits it.
    idp.keys = [oldKey, newKey];
    clock += 60_000;
    expect((await sync.cycle()).changed).to.equal(true);
    expect(kong.kids('identity-provider')).to.deep.equal([oldKey.kid, newKey.kid].sort());

    // The old key is retired: still admitted during the overlap (tokens it signed are in flight)...
    idp.keys = [newKey];
    clock += 60_000;
    await sync.cycle();
    clock += overlapMs - 60_000;
    await sync.cycle();
    expect(kong.kids('identity-provider')).to.deep.equal([oldKey.kid, newKey.kid].sort());
    // ...and refused once it has been gone longer than the overlap.
    clock += 120_000;
    await sync.cycle();
    expect(kong.kids('identity-provider')).to.deep.equal([newKey.kid]);
  });

  it('keeps every key while the issuer cannot be reached, and reloads a Kong that restarted from its ConfigMap', async function () {
    idp.keys = [newKey];
    const failures: string[] = [];
    const sync = createJwksSync({
      issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }],
      base: BASE,
      admin,
      overlapMs,
      fetchJwks: (uri) => fetchJwksOver(uri, 500),
      now: () => clock,
      events: { fetched: (consumer, ok) => (ok ? undefined : failures.push(consumer)) },
    });
    await sync.cycle();
    await idp.stop();
    clock += overlapMs * 3;
    await sync.cycle();
    expect(failures).to.deep.equal(['identity-provider']);
    expect(kong.kids('identity-provider')).to.deep.equal([newKey.kid]);
    await idp.start();

    kong.config = BASE; // Kong restarted: it runs its ConfigMap again, without the live keys
    const loads = kong.loads;
    expect((await sync.cycle()).changed).to.equal(true);
    expect(kong.loads).to.equal(loads + 1);
    expect(kong.kids('identity-provider')).to.deep.equal([newKey.kid]);
    expect((await sync.cycle()).changed, 'nothing changed: no reload').to.equal(false);
  });

  it('starts from the keys in Kong\'s ConfigMap, and ignores keys Kong cannot use', async function () {
    const seeded = withConsumers(BASE, [consumerOf('identity-provider', [oldKey.jwk])]);
    idp.keys = [newKey];
    const hs = { kty: 'oct', k: 'c2VjcmV0', kid: 'hs-1', alg: 'HS256' };
    const sync = createJwksSync({
      issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }],
      base: seeded,
      admin,
      overlapMs,
      fetchJwks: async (uri) => ({ keys: [...(await fetchJwksOver(uri)).keys, hs] }),
      now: () => clock,
    });
    await sync.cycle();
    expect(kong.kids('identity-provider')).to.deep.equal([oldKey.kid, newKey.kid].sort());
  });
});

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
    redis.start();
    writeFileSync(join(dir, 'kong.yml'), BASE);
  });
  after(async function () {
    await idp.stop();
    await kong.stop();
    redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads Kong, and reports keys, sync time and the rate limiter\'s Redis as metrics', async function () {
    const config = loadKongSyncConfig({
      KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'identity-provider', jwksUri: idp.jwksUri }]),
      KONG_SYNC_BASE_CONFIG: join(dir, 'kong.yml'),
      KONG_SYNC_ADMIN_URL: kong.url,
      KONG_SYNC_METRICS_PORT: '0',
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
      redis.stop();
      expect(await stopped.check(), 'Redis stopped').to.equal(false);
    } finally {
      await stopped.close();
      redis.start();
    }
  });

  it('refuses a bad issuer list at start, naming the variable', function () {
    expect(() => loadKongSyncConfig({ KONG_SYNC_ISSUERS: '[{"consumer": "Bad Name", "jwksUri": "ftp://x"}]' })).to.throw(/KONG_SYNC_ISSUERS: must be a JSON list/);
  });
});

describe('records kong-sync trusts issuers no further than it must', function () {
  this.timeout(20_000);
  const first = new JwksServer('first-idp');
  const second = new JwksServer('second-idp');
  const kong = new StandInKong();
  let listener: Server;
  let base = '';

  before(async function () {
    first.keys = [generateTestKey('RS256')];
    await first.start();
    await second.start();
    await kong.start();
    // A JWKS host that redirects elsewhere, and one that answers with far more than a key set.
    listener = createServer((req, res) => {
      if (req.url === '/redirect') return res.writeHead(302, { location: first.jwksUri }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [], padding: 'x'.repeat(1024 * 1024) }));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
  });
  after(async function () {
    await first.stop();
    await second.stop();
    await kong.stop();
    await new Promise((resolve) => listener.close(resolve));
  });

  it('refuses a key whose kid another issuer holds, for the newcomer only, and says so', async function () {
    // The second issuer publishes a key under the first issuer's kid: Kong needs jwt_secrets keys unique.
    const fresh = generateTestKey('ES256');
    const impostor = { ...fresh, kid: first.keys[0]!.kid, jwk: { ...fresh.jwk, kid: first.keys[0]!.kid } };
    second.keys = [impostor, generateTestKey('ES256')];
    const collided: string[] = [];
    const sync = createJwksSync({
      issuers: [{ consumer: 'first-idp', jwksUri: first.jwksUri }, { consumer: 'second-idp', jwksUri: second.jwksUri }],
      base: BASE,
      admin: createKongAdmin(kong.url),
      overlapMs: 3_600_000,
      fetchJwks: (uri) => fetchJwksOver(uri),
      events: { collided: (consumer, kid, holder) => collided.push(`${consumer}:${kid}:${holder}`) },
    });
    await sync.cycle();
    await sync.cycle();
    expect(kong.kids('first-idp')).to.deep.equal([first.keys[0]!.kid]);
    expect(kong.kids('second-idp'), 'its other key still admitted').to.deep.equal([second.keys[1]!.kid]);
    expect(collided[0]).to.equal(`second-idp:${impostor.kid}:first-idp`);
    const kids = (parse(kong.config).consumers as Array<{ jwt_secrets: Array<{ key: string }> }>).flatMap((consumer) => consumer.jwt_secrets.map((secret) => secret.key));
    expect(new Set(kids).size, 'every jwt_secrets key unique, as Kong requires').to.equal(kids.length);
  });

  it('follows no redirect and reads no more than a key set takes', async function () {
    let redirected = '';
    await fetchJwksOver(`${base}/redirect`).catch((error: Error) => (redirected = String(error.cause ?? error.message)));
    expect(redirected).to.match(/redirect/i);
    let oversized = '';
    await fetchJwksOver(`${base}/huge`).catch((error: Error) => (oversized = error.message));
    expect(oversized).to.match(/larger than 262144 bytes/);
  });

  it('fetches JWKS over https only (plain http on loopback alone)', function () {
    const issuers = (jwksUri: string) => ({ KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'reports-service', jwksUri }]) });
    expect(() => loadKongSyncConfig(issuers('http://reports.reports.svc.cluster.local:8000/.well-known/jwks.json'))).to.throw(/KONG_SYNC_ISSUERS: .*must be https:\/\//);
    expect(loadKongSyncConfig(issuers('https://id.example.org/.well-known/jwks.json')).issuers).to.have.length(1);
    expect(loadKongSyncConfig(issuers('http://127.0.0.1:8080/jwks.json')).issuers).to.have.length(1);
  });
});
