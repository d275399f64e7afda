import { expect } from 'chai';
import { createJwksSync } from '../../service/src/kong-sync/jwks-sync.js';
import { createKongAdmin, type KongAdmin } from '../../service/src/clients/kong-admin.js';
import { consumerOf, withConsumers } from '../../service/src/kong-sync/kong-consumers.js';
import { fetchJwksOver } from '../../service/src/kong-sync/kong-sync.js';
import { parse } from 'yaml';
import { generateTestKey, JwksServer, type TestKey } from '../support/jwks-server.js';
import { BASE, StandInKong } from './kong-sync-helpers.js';

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
  beforeEach(function () {
    kong.config = BASE;
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

  it('restarted while the issuer cannot be reached, keeps the keys Kong runs (it posted the ConfigMap\'s alone, dropping every key rotated in since)', async function () {
    idp.keys = [newKey];
    const options = { issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }], base: BASE, admin, overlapMs, now: () => clock };
    await createJwksSync({ ...options, fetchJwks: (uri) => fetchJwksOver(uri) }).cycle();
    expect(kong.kids('identity-provider')).to.deep.equal([newKey.kid]);

    const restarted = createJwksSync({ ...options, fetchJwks: () => Promise.reject(new Error('the identity provider is down')) });
    const { complete } = await restarted.cycle();
    expect(complete).to.equal(false);
    expect(kong.kids('identity-provider')).to.deep.equal([newKey.kid]);
    // Kong's list is read a page at a time: every page counts.
    const twoKeys = withConsumers(BASE, [consumerOf('identity-provider', [oldKey.jwk, newKey.jwk])]);
    kong.config = twoKeys;
    expect((await createKongAdmin(kong.url, { pageSize: 1 }).jwtSecrets('identity-provider')).map((secret) => secret.key).sort()).to.deep.equal([oldKey.kid, newKey.kid].sort());
    expect(await admin.jwtSecrets('no-such-consumer')).to.deep.equal([]);
  });

  it('holds the first of two keys published under one kid, and reports the other (Kong holds one key per kid; the later replaced the earlier silently)', async function () {
    const rsa = generateTestKey('RS256');
    const ec = generateTestKey('ES256');
    const refused: Array<[string | undefined, string]> = [];
    const sync = createJwksSync({
      issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }],
      base: BASE,
      admin,
      overlapMs,
      fetchJwks: async () => ({ keys: [rsa.jwk, { ...ec.jwk, kid: rsa.kid }] }),
      now: () => clock,
      events: { refused: (_, kid, reason) => refused.push([kid, reason]) },
    });
    await sync.cycle();
    const secrets = (parse(kong.config).consumers[0].jwt_secrets as Array<{ key: string; algorithm: string }>).map(({ key, algorithm }) => `${key} ${algorithm}`);
    expect(secrets).to.deep.equal([`${rsa.kid} RS256`]);
    expect(refused).to.have.length(1);
    expect(refused[0]?.[0]).to.equal(rsa.kid);
    expect(refused[0]?.[1]).to.contain('Kong holds one key per kid');
  });

  it('refuses entries of a key set that are not keys for their issuer alone, and says why a key set could not be fetched (a null entry stopped every issuer\'s cycle)', async function () {
    const good = generateTestKey('ES256');
    const other = generateTestKey('RS256');
    const refused: Array<[string, string | undefined, string]> = [];
    const unreachable: Array<[string, string]> = [];
    const published: Record<string, unknown[]> = { 'https://a.test/jwks': [null, 7, { ...other.jwk, kid: 42 }, good.jwk], 'https://b.test/jwks': [other.jwk] };
    const sync = createJwksSync({
      issuers: [
        { consumer: 'issuer-a', jwksUri: 'https://a.test/jwks' },
        { consumer: 'issuer-b', jwksUri: 'https://b.test/jwks' },
        { consumer: 'issuer-c', jwksUri: 'https://c.test/jwks' },
      ],
      base: BASE,
      admin,
      overlapMs,
      fetchJwks: async (uri) => {
        const keys = published[uri];
        if (!keys) throw new Error(`${uri}: answered 404`);
        return { keys: keys as never[] };
      },
      now: () => clock,
      events: { refused: (consumer, kid, reason) => refused.push([consumer, kid, reason]), unreachable: (consumer, reason) => unreachable.push([consumer, reason]) },
    });
    const { complete } = await sync.cycle();
    expect(complete).to.equal(false);
    expect(kong.kids('issuer-a')).to.deep.equal([good.kid]);
    expect(kong.kids('issuer-b')).to.deep.equal([other.kid]);
    expect(refused.map(([consumer, kid]) => `${consumer} ${kid}`)).to.deep.equal(['issuer-a undefined', 'issuer-a undefined', 'issuer-a undefined']);
    expect(refused.map(([, , reason]) => reason)).to.deep.equal([
      'https://a.test/jwks: every key must be a JSON object',
      'https://a.test/jwks: every key must be a JSON object',
      'https://a.test/jwks: a kid must be a string (Kong compares it with the token\'s, a string)',
    ]);
    expect(unreachable).to.deep.equal([['issuer-c', 'https://c.test/jwks: answered 404']]);
  });

  it('admits keys that name no alg by their type (RFC 7517 makes alg optional), and takes a key set with nothing Kong can use for a failed fetch', async function () {
    const rsa = generateTestKey('RS256');
    const ec = generateTestKey('ES256');
    const withoutAlg = ({ jwk }: TestKey) => ({ ...jwk, alg: undefined });
    const encryptionKey = generateTestKey('RS256');
    const encryption = { ...withoutAlg(encryptionKey), use: 'enc' };
    let published = [withoutAlg(rsa), withoutAlg(ec), encryption];
    const fetched: boolean[] = [];
    const refused: Array<string | undefined> = [];
    const sync = createJwksSync({
      issuers: [{ consumer: 'identity-provider', jwksUri: idp.jwksUri }],
      base: BASE,
      admin,
      overlapMs,
      fetchJwks: async () => ({ keys: published }),
      now: () => clock,
      events: { fetched: (_, ok) => fetched.push(ok), refused: (_, kid) => refused.push(kid) },
    });
    await sync.cycle();
    const secrets = (parse(kong.config).consumers[0].jwt_secrets as Array<{ key: string; algorithm: string }>).map(({ key, algorithm }) => `${key} ${algorithm}`);
    expect(secrets.sort()).to.deep.equal([`${rsa.kid} RS256`, `${ec.kid} ES256`].sort());
    expect(refused).to.deep.equal([encryptionKey.kid]);

    // Nothing usable published (a misconfigured endpoint): no rotation to no key at all.
    published = [encryption];
    clock += overlapMs * 2;
    const { complete } = await sync.cycle();
    expect(complete).to.equal(false);
    expect(fetched).to.deep.equal([true, false]);
    expect(kong.kids('identity-provider')).to.deep.equal([rsa.kid, ec.kid].sort());
  });
});
