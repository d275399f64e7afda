import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { parse } from 'yaml';
import { loadKongSyncConfig } from '../../service/src/kong-sync/config.js';
import { loadIssuers } from '../../service/src/api/trusted-issuers.js';
import { createJwksSync } from '../../service/src/kong-sync/jwks-sync.js';
import { createKongAdmin } from '../../service/src/clients/kong-admin.js';
import { fetchJwksOver } from '../../service/src/kong-sync/kong-sync.js';
import { generateTestKey, JwksServer } from '../support/jwks-server.js';
import { BASE, StandInKong } from './kong-sync-helpers.js';

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
      // Valid JSON that is not a key set: an array (whose .keys is Array.prototype.keys), keys not an array.
      const notKeySets: Record<string, unknown> = { '/array': [{ kid: 'a' }], '/keys-object': { keys: { kid: 'a' } }, '/keys-number': { keys: 5 } };
      if (req.url && req.url in notKeySets) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(notKeySets[req.url]));
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

  it('gives a contested kid to the issuer first in the configured order, whichever published it first (replicas started at different times disagreed)', async function () {
    const own = generateTestKey('RS256');
    const contested = generateTestKey('ES256');
    first.keys = [own];
    second.keys = [contested];
    kong.config = BASE;
    const options = {
      issuers: [{ consumer: 'first-idp', jwksUri: first.jwksUri }, { consumer: 'second-idp', jwksUri: second.jwksUri }],
      base: BASE,
      overlapMs: 3_600_000,
      fetchJwks: (uri: string) => fetchJwksOver(uri),
    };
    const running = createJwksSync({ ...options, admin: createKongAdmin(kong.url) });
    await running.cycle();
    expect(running.kids('second-idp')).to.deep.equal([contested.kid]);
    // The first issuer now publishes a key under the same kid.
    const clash = generateTestKey('ES256');
    first.keys = [own, { ...clash, kid: contested.kid, jwk: { ...clash.jwk, kid: contested.kid } }];
    await running.cycle();
    const restartedKong = new StandInKong();
    await restartedKong.start();
    try {
      const started = createJwksSync({ ...options, admin: createKongAdmin(restartedKong.url) });
      await started.cycle();
      for (const sync of [running, started]) {
        expect(sync.kids('first-idp')).to.deep.equal([own.kid, contested.kid].sort());
        expect(sync.kids('second-idp')).to.deep.equal([]);
      }
    } finally {
      await restartedKong.stop();
    }
  });

  it('follows no redirect and reads no more than a key set takes', async function () {
    let redirected = '';
    await fetchJwksOver(`${base}/redirect`).catch((error: Error) => (redirected = String(error.cause ?? error.message)));
    expect(redirected).to.match(/redirect/i);
    let oversized = '';
    await fetchJwksOver(`${base}/huge`).catch((error: Error) => (oversized = error.message));
    expect(oversized).to.match(/larger than 262144 bytes/);
  });

  it('takes a body that is JSON but no key set for a failed fetch of that issuer alone (it aborted every issuer\'s sync)', async function () {
    for (const path of ['/array', '/keys-object', '/keys-number']) {
      const outcome = await fetchJwksOver(`${base}${path}`).then(
        () => 'accepted',
        (error: Error) => error.message,
      );
      expect(outcome, path).to.match(/not a key set/);
    }
  });

  it('fetches JWKS from the same places the service trusts: https, or plain http on loopback or to a cluster Service (it refused the Service)', function () {
    const issuers = (jwksUri: string) => ({ KONG_SYNC_ISSUERS: JSON.stringify([{ consumer: 'reports-service', jwksUri }]) });
    const inCluster = 'http://reports.reports.svc.cluster.local:8000/.well-known/jwks.json';
    for (const accepted of ['https://id.example.org/.well-known/jwks.json', 'http://127.0.0.1:8080/jwks.json', inCluster, 'http://reports.reports.svc:8000/jwks.json']) {
      expect(loadKongSyncConfig(issuers(accepted)).issuers, accepted).to.have.length(1);
      // The service's own rule: an issuer Kong admits must be one the service can trust, and the other way round.
      expect(loadIssuers(JSON.stringify([{ issuer: 'https://reports', jwksUri: accepted, audience: 'records' }]), undefined), accepted).to.have.length(1);
    }
    for (const refused of ['http://id.example.org/.well-known/jwks.json', 'http://10.0.0.7/jwks.json', 'http://reports.svc.cluster.local/jwks.json', 'ftp://id.example.org/jwks.json']) {
      expect(() => loadKongSyncConfig(issuers(refused)), refused).to.throw(/KONG_SYNC_ISSUERS: .*must be https:\/\//);
      expect(() => loadIssuers(JSON.stringify([{ issuer: 'https://reports', jwksUri: refused, audience: 'records' }]), undefined), refused).to.throw(/must be https:\/\//);
    }
  });
});
