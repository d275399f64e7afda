import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadSigningKeyIfPresent } from '../../../service/src/api/auth/signing-key.js';
import { assertServable, loadConfig } from '../../../service/src/api/config.js';
import { ConfigError } from '../../../service/src/shared/environment.js';

describe('config', function () {
  it('has the defaults README.md documents: each one, given explicitly, changes nothing', function () {
    const table = readFileSync('README.md', 'utf8').split('## Configuration')[1]!.split('\n## ')[0]!;
    const defaults = loadConfig({ AUTH_MODE: 'disabled' });
    let checked = 0;
    for (const row of table.split('\n').filter((line) => /^\| `[A-Z]/.test(line))) {
      const [names, values] = row.split('|').slice(1, 3).map((cell) => cell.trim());
      const variables = [...names!.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!);
      const documented = values!.split(', ').map((value) => /^`([^`]*)`$/.exec(value)?.[1]);
      variables.forEach((variable, index) => {
        const value = documented[index];
        if (value === undefined || variable === 'AUTH_MODE') return; // unset, none, or not a plain value
        expect(loadConfig({ AUTH_MODE: 'disabled', [variable]: value }), `${variable}=${value}`).to.deep.equal(defaults);
        checked += 1;
      });
    }
    expect(checked, 'documented defaults checked').to.be.at.least(25);
    expect(defaults.databaseUrl, 'the embedded default').to.equal('./data/records.sqlite');
    expect(defaults.cache.redisUrl, 'an in-process cache without REDIS_URL').to.equal(null);
  });

  it('requires trusted issuers by default, since AUTH_MODE defaults to required', function () {
    expect(loadConfig({}).auth.mode, 'migrate and token need no issuers').to.equal('required');
    expect(() => assertServable(loadConfig({}), false)).to.throw(ConfigError, /AUTH_ISSUERS: at least one trusted issuer/);
    expect(() => assertServable(loadConfig({ SERVICE_ISSUER: 'http://records.records.svc:8000' }), false), 'no key').to.throw(ConfigError, /SERVICE_KEY_FILE/);
    expect(() => assertServable(loadConfig({}), true), 'a key but no issuer URL').to.throw(ConfigError, /SERVICE_ISSUER/);
    expect(() => assertServable(loadConfig({ SERVICE_ISSUER: 'http://records.records.svc:8000' }), true), 'trusts itself').not.to.throw();
    const issuers = [{ issuer: 'https://id.example.org/', jwksUri: 'https://id.example.org/jwks.json', audience: 'records' }];
    expect(loadConfig({ AUTH_ISSUERS: JSON.stringify(issuers) }).auth).to.include({ mode: 'required' }).and.to.deep.include({ issuers });
    // Plain http stays allowed on loopback and to a Service inside the cluster (another release's JWKS).
    for (const jwksUri of ['http://127.0.0.1:8080/jwks', 'http://[::1]/jwks', 'http://localhost/jwks', 'http://reports.reports.svc.cluster.local:8000/.well-known/jwks.json', 'http://reports.reports.svc/jwks']) {
      expect(loadConfig({ AUTH_ISSUERS: JSON.stringify([{ ...issuers[0], jwksUri }]) }).auth.issuers[0]?.jwksUri, jwksUri).to.equal(jwksUri);
    }
  });

  for (const [value, pattern] of [
    ['not json', /AUTH_ISSUERS: /],
    ['[{"issuer": "a", "jwksUri": "ftp://x/jwks", "audience": "r"}]', /AUTH_ISSUERS: must be a JSON list/],
    ['[{"issuer": "a", "jwksUri": "https://x/jwks"}]', /audience/],
    ['[{"issuer": "a", "jwksUri": "https://x/jwks", "audience": "r", "typo": 1}]', /AUTH_ISSUERS: must be a JSON list/],
    // Keys fetched in the clear from a public host could be swapped on the way: whoever did could mint any token.
    ['[{"issuer": "a", "jwksUri": "http://idp.example.org/jwks", "audience": "r"}]', /jwksUri must be https:\/\//],
    ['[{"issuer": "a", "jwksUri": "http://idp.svc.example.org/jwks", "audience": "r"}]', /jwksUri must be https:\/\//],
  ] as const) {
    it(`rejects AUTH_ISSUERS=${value}`, function () {
      expect(() => loadConfig({ AUTH_ISSUERS: value })).to.throw(ConfigError, pattern);
    });
  }

  it('names AUTH_ISSUERS_FILE and SERVICE_KEY_FILE when what they name cannot be used (a stack trace and exit 1; a file listing an issuer twice was blamed on AUTH_ISSUERS)', function () {
    const dir = mkdtempSync(join(tmpdir(), 'records-config-'));
    try {
      expect(() => loadConfig({ AUTH_ISSUERS_FILE: join(dir, 'none.json') })).to.throw(ConfigError, /AUTH_ISSUERS_FILE: cannot read .*none\.json \(ENOENT\)/);
      const issuer = { issuer: 'https://id.example.org/', jwksUri: 'https://id.example.org/jwks.json', audience: 'records' };
      writeFileSync(join(dir, 'twice.json'), JSON.stringify([issuer, issuer]));
      expect(() => loadConfig({ AUTH_ISSUERS_FILE: join(dir, 'twice.json') })).to.throw(ConfigError, /\n {2}AUTH_ISSUERS_FILE: the issuer https:\/\/id\.example\.org\/ is listed twice/);
      writeFileSync(join(dir, 'once.json'), JSON.stringify([issuer]));
      expect(() => loadConfig({ AUTH_ISSUERS: JSON.stringify([issuer]), AUTH_ISSUERS_FILE: join(dir, 'once.json') })).to.throw(ConfigError, /AUTH_ISSUERS and AUTH_ISSUERS_FILE: the issuer .* is listed twice/);
      const ed25519 = join(dir, 'ed25519.pem');
      writeFileSync(ed25519, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
      expect(() => loadSigningKeyIfPresent(ed25519)).to.throw(ConfigError, /SERVICE_KEY_FILE: .*must be RSA or EC P-256, not ed25519/);
      writeFileSync(join(dir, 'not-a-key.pem'), 'not a key');
      expect(() => loadSigningKeyIfPresent(join(dir, 'not-a-key.pem'))).to.throw(ConfigError, /SERVICE_KEY_FILE: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('puts DATABASE_PASSWORD into a mysql:// DATABASE_URL, escaped, and refuses it for SQLite', function () {
    const url = loadConfig({ AUTH_MODE: 'disabled', DATABASE_URL: 'mysql://records@db:3306/records', DATABASE_PASSWORD: 'p@ss:w/rd' }).databaseUrl;
    expect(url).to.equal('mysql://records:p%40ss%3Aw%2Frd@db:3306/records');
    expect(decodeURIComponent(new URL(url).password)).to.equal('p@ss:w/rd');
    expect(() => loadConfig({ AUTH_MODE: 'disabled', DATABASE_PASSWORD: 'x' })).to.throw(ConfigError, /DATABASE_PASSWORD: only applies/);
    // Likewise a Redis password with no Redis: it was ignored.
    expect(() => loadConfig({ AUTH_MODE: 'disabled', REDIS_PASSWORD: 'x' })).to.throw(ConfigError, /REDIS_PASSWORD: set without REDIS_URL/);
  });

  it('reads sizes with units', function () {
    const bodyLimit = (value: string) => loadConfig({ AUTH_MODE: 'disabled', BODY_LIMIT: value }).bodyLimit;
    expect(bodyLimit('64kb')).to.equal(64_000);
    expect(bodyLimit('2MiB')).to.equal(2 * 1024 * 1024);
    expect(bodyLimit('1234')).to.equal(1234);
  });

  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['BODY_LIMIT', '10 parsecs'],
    ['BODY_LIMIT', '0'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'postgres://db/records'],
    ['INSERT_BATCH_SIZE', '100000'],
    ['BULK_CONCURRENCY', '0'],
    ['BULK_CONCURRENCY', 'two'],
    ['WRITE_WORKERS', '17'],
    ['WRITE_WORKERS', '-1'],
    ['REDIS_URL', 'localhost:6379'],
    ['CACHE', 'maybe'],
    ['CACHE_TTL_SECONDS', '0'],
  ] as const) {
    it(`stops with a message naming ${name} for ${JSON.stringify(value)}`, function () {
      expect(() => loadConfig({ AUTH_MODE: 'disabled', [name]: value })).to.throw(ConfigError, new RegExp(`^invalid configuration:\\n  ${name}: `));
    });
  }
});
