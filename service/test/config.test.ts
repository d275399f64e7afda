import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', function () {
  it('has defaults for the embedded setup', function () {
    expect(loadConfig({})).to.deep.equal({
      port: 8000,
      host: '0.0.0.0',
      databaseUrl: './data/records.sqlite',
      bodyLimit: 10 * 1024 * 1024,
      insertBatchSize: 500,
      logLevel: 'info',
    });
  });

  it('reads sizes with units', function () {
    expect(loadConfig({ BODY_LIMIT: '64kb' }).bodyLimit).to.equal(64_000);
    expect(loadConfig({ BODY_LIMIT: '2MiB' }).bodyLimit).to.equal(2 * 1024 * 1024);
    expect(loadConfig({ BODY_LIMIT: '1234' }).bodyLimit).to.equal(1234);
  });

  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['BODY_LIMIT', '10 parsecs'],
    ['BODY_LIMIT', '0'],
    ['LOG_LEVEL', 'loud'],
    ['DATABASE_URL', 'postgres://db/records'],
    ['INSERT_BATCH_SIZE', '100000'],
  ] as const) {
    it(`stops with a message naming ${name} for ${JSON.stringify(value)}`, function () {
      expect(() => loadConfig({ [name]: value })).to.throw(ConfigError, new RegExp(`^invalid configuration:\\n  ${name}: `));
    });
  }
});
