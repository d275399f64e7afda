import { expect } from 'chai';
import { createMemoryStore } from '../../../../service/src/api/cache/memory-store.js';
import { createRecordsCache } from '../../../../service/src/api/cache/records-cache.js';
import { createLogger } from '../../../../service/src/shared/logger.js';

/**
 * Identical concurrent searches share one load: it stops only when every caller waiting for it
 * has gone, a caller coming after that starts anew, and only the caller who starts a load is
 * admitted (its per-caller slot), so one caller's disconnect or refusal never fails the others.
 */
describe('shared search loads of the read cache', function () {
  const query = { after: null, before: null, contains: 'shared', uri: null, limit: 10, cursor: null };
  const newCache = () => createRecordsCache({ store: createMemoryStore({ maxEntries: 100, maxBytes: 1 << 20 }), ttlSeconds: 60, keyPrefix: 't:', logger: createLogger({ logLevel: 'silent' }) });

  it('stops a shared load only once every waiting caller has gone', async function () {
    const cache = newCache();
    const [alice, bob] = [new AbortController(), new AbortController()];
    let loadSignal: AbortSignal | undefined;
    let finish: (value: string) => void = () => {};
    const load = (signal: AbortSignal) => {
      loadSignal = signal;
      return new Promise<string>((resolve) => (finish = resolve));
    };
    const first = cache.search(query, load, { signal: alice.signal });
    const second = cache.search(query, load, { signal: bob.signal });
    await new Promise((resolve) => setImmediate(resolve));
    alice.abort();
    expect(loadSignal?.aborted, 'one caller of two gone').to.equal(false);
    bob.abort();
    expect(loadSignal?.aborted, 'both gone').to.equal(true);
    // A caller coming now is not handed the stopped load: it starts its own.
    let started = 0;
    const fresh = await cache.search(query, async () => {
      started += 1;
      return '{"items":["fresh"]}';
    });
    expect(started).to.equal(1);
    expect(fresh.value).to.equal('{"items":["fresh"]}');
    finish('{"items":[]}');
    await Promise.all([first, second]);
  });

  it('admits only the caller who starts a load: a joiner is neither counted nor refused', async function () {
    const cache = newCache();
    const admitted: string[] = [];
    let finish: (value: string) => void = () => {};
    const load = () => new Promise<string>((resolve) => (finish = resolve));
    const first = cache.search(query, load, { admit: () => (admitted.push('alice'), () => admitted.push('alice released')) });
    await new Promise((resolve) => setImmediate(resolve));
    const refuse = () => {
      throw new Error('bob is over his limit');
    };
    const second = cache.search(query, load, { admit: refuse });
    finish('{"items":[]}');
    expect((await first).value).to.equal('{"items":[]}');
    expect((await second).value, 'bob joined the running load without being asked').to.equal('{"items":[]}');
    expect(admitted).to.deep.equal(['alice', 'alice released']);
  });
});
