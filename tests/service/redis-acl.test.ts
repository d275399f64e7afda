import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import { createRedisStore } from '../../service/src/api/cache/redis-store.js';
import { createRedisProbe } from '../../service/src/kong-sync/kong-sync.js';
import { createLogger } from '../../service/src/shared/logger.js';
import { redisUrlWith } from '../../service/src/shared/redis-url.js';
import { OwnRedis } from '../support/redis-server.js';

/**
 * Kong's rate limiter and the records cache share staging's Valkey, each as its own ACL user held
 * to its own keys (argocd/values/valkey/staging.yaml; production's managed Redis gets the same
 * users, docs/gitops.md). Checked on a real redis-server with those exact ACL rules: each user does
 * its work, and is refused the other's keys, so a compromised Kong pod cannot plant a cached
 * response. Kong's side runs the commands its rate-limiting plugin sends (EVAL of a script that
 * counts with exists/incrby/expireat, or incr/expire, on KEYS[1]): the project's model of that use.
 */
type AclUsers = Record<string, { permissions: string }>;
const aclUsers = (parse(readFileSync('argocd/values/valkey/staging.yaml', 'utf8')) as { auth: { aclUsers: AclUsers } }).auth.aclUsers;

const KONG_COUNT = `
  local exists = redis.call("exists", KEYS[1])
  redis.call("incrby", KEYS[1], tonumber(ARGV[1]))
  if exists == 0 then redis.call("expireat", KEYS[1], ARGV[2]) end
  return 1`;
const KONG_USAGE = `
  local n = redis.call("incr", KEYS[1])
  if n == 1 then redis.call("expire", KEYS[1], ARGV[1]) end
  return n - 1`;

describe('Redis ACL users of staging\'s Valkey: records and Kong apart', function () {
  this.timeout(30_000);
  const server = new OwnRedis();
  const clients: Redis[] = [];
  const as = (user: string) => {
    const client = new Redis(redisUrlWith(`redis://${user}@127.0.0.1:${server.port}`, `${user}-secret`), { lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(client);
    return client;
  };
  const refused = (attempt: Promise<unknown>) => attempt.then(() => 'allowed', (error: Error) => (/NOPERM/.test(error.message) ? 'refused' : error.message));

  before(async function () {
    await server.start();
    const admin = new Redis(server.url);
    // As the Valkey chart writes them: `user NAME on >PASSWORD PERMISSIONS`, the default user included.
    // The admin connection is the default user: its own rules go last.
    const users = Object.entries(aclUsers).sort(([a], [b]) => Number(a === 'default') - Number(b === 'default'));
    for (const [name, { permissions }] of users) {
      await admin.call('ACL', 'SETUSER', name, 'reset', 'on', `>${name}-secret`, ...permissions.split(/\s+/).filter(Boolean));
    }
    await admin.quit();
  });
  after(async function () {
    for (const client of clients) client.disconnect();
    await server.dispose();
  });

  it('names exactly the users the services log in as: default, records and kong', function () {
    expect(Object.keys(aclUsers).sort()).to.deep.equal(['default', 'kong', 'records']);
  });

  it('lets the records cache do its work as records, under its key prefix', async function () {
    const store = createRedisStore({ url: `redis://records@127.0.0.1:${server.port}`, password: 'records-secret', commandTimeoutMs: 2000, logger: createLogger({ logLevel: 'silent' }) });
    try {
      await new Promise<void>((resolve, reject) => {
        if (store.isAvailable()) resolve();
        store.onAvailable(resolve);
        setTimeout(() => reject(new Error('the records user could not log in')), 5000).unref();
      });
      await store.initialize('records:generation', '1');
      await store.increment('records:generation', 2);
      await store.set('records:search:1:abc', '{"items":[]}', 60);
      expect(await store.getMany(['records:generation', 'records:search:1:abc'])).to.deep.equal(['2', '{"items":[]}']);
    } finally {
      await store.close();
    }
  });

  it('lets the jwks-sync sidecar probe the limiter\'s Redis as kong', async function () {
    const probe = createRedisProbe({ url: `redis://kong@127.0.0.1:${server.port}`, password: 'kong-secret' });
    try {
      expect(await probe.check()).to.equal(true);
    } finally {
      await probe.close();
    }
  });

  it('lets Kong count as kong, under ratelimit:', async function () {
    const kong = as('kong');
    await kong.select(1);
    await kong.info('server');
    const key = 'ratelimit:route-id:service-id:203.0.113.7:1764806400000:minute';
    expect(await kong.eval(KONG_COUNT, 1, key, 1, 1764806460)).to.equal(1);
    expect(await kong.eval(KONG_USAGE, 1, `${key}:usage`, 60)).to.equal(0);
  });

  it('refuses each one the other\'s keys, and everyone the rest', async function () {
    const kong = as('kong');
    const records = as('records');
    const anonymous = as('default');
    expect(await refused(kong.set('records:search:1:abc', '{"items":["planted"]}')), 'kong writing a cached response').to.equal('refused');
    expect(await refused(kong.get('records:generation')), 'kong reading the cache').to.equal('refused');
    expect(await refused(kong.eval(KONG_COUNT, 1, 'records:generation', 1, 1)), 'kong scripting on a records key').to.equal('refused');
    expect(await refused(kong.flushall()), 'kong flushing').to.equal('refused');
    expect(await refused(records.set('ratelimit:route-id:service-id:1.2.3.4:0:minute', '0')), 'records resetting a limit').to.equal('refused');
    expect(await refused(records.keys('*')), 'records listing keys').to.equal('refused');
    expect(await refused(anonymous.get('records:generation')), 'default reading').to.equal('refused');
    expect(await anonymous.ping(), 'default answers probes').to.equal('PONG');
  });
});
