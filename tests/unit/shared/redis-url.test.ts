import { expect } from 'chai';
import { Redis } from 'ioredis';
import { redisUrlWith } from '../../../service/src/shared/redis-url.js';

/** ioredis takes user and password from the URL: what it reads must be the password as given. */
describe('redisUrlWith', function () {
  for (const password of ['plain', '50%off', 'ab%41', 'p@ss:w/rd?#', 'ünïcode']) {
    it(`hands ioredis the password ${JSON.stringify(password)} unchanged, with the ACL user`, function () {
      const client = new Redis(redisUrlWith('redis://records@127.0.0.1:6379/1', password), { lazyConnect: true });
      try {
        expect(client.options).to.deep.include({ username: 'records', password, host: '127.0.0.1', port: 6379, db: 1 });
      } finally {
        client.disconnect();
      }
    });
  }

  it('leaves a URL alone without a password', function () {
    expect(redisUrlWith('redis://127.0.0.1:6379', null)).to.equal('redis://127.0.0.1:6379');
  });
});
