import { expect } from 'chai';
import { createMemoryStore } from '../../../../service/src/api/cache/memory-store.js';

describe('in-memory LRU store', function () {
  it('keeps at most maxEntries, evicting the least recently used', async function () {
    const store = createMemoryStore({ maxEntries: 3, maxBytes: 1_000_000 });
    for (const key of ['a', 'b', 'c']) await store.set(key, key.toUpperCase(), 60);
    expect(await store.getMany(['a'])).to.deep.equal(['A']); // a is now the most recent
    await store.set('d', 'D', 60);
    expect(await store.getMany(['a', 'b', 'c', 'd'])).to.deep.equal(['A', null, 'C', 'D']);
    expect(store.stats().entries).to.equal(3);
  });

  it('keeps at most maxBytes and drops values larger than the whole budget', async function () {
    const store = createMemoryStore({ maxEntries: 1000, maxBytes: 100 });
    // Each entry costs (key + value) x 2 bytes: (3 + 10) x 2 = 26, so three fit in 100 bytes.
    for (let i = 10; i < 30; i += 1) await store.set(`k${i}`, 'x'.repeat(10), 60);
    expect(store.stats()).to.deep.equal({ entries: 3, bytes: 78 });
    expect(await store.getMany(['k27', 'k28', 'k29'])).to.deep.equal(['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxxxxxxx']);
    await store.set('huge', 'x'.repeat(60), 60);
    expect(await store.getMany(['huge'])).to.deep.equal([null]);
    expect(store.stats().bytes).to.be.at.most(100);
  });

  it('expires entries after their TTL', async function () {
    let now = 1_000;
    const store = createMemoryStore({ maxEntries: 10, maxBytes: 10_000, now: () => now });
    await store.set('k', 'v', 5);
    now += 5_000;
    expect(await store.getMany(['k'])).to.deep.equal(['v']);
    now += 1; // older than its TTL
    expect(await store.getMany(['k'])).to.deep.equal([null]);
    expect(store.stats()).to.deep.equal({ entries: 0, bytes: 0 });
  });

  it('never evicts counters, which start from the floor', async function () {
    const store = createMemoryStore({ maxEntries: 1, maxBytes: 10 });
    expect(await store.increment('generation', 41)).to.equal(42);
    await store.set('other', 'x', 60);
    expect(await store.getMany(['generation'])).to.deep.equal(['42']);
    expect(await store.initialize('generation', '7')).to.equal('42');
  });
});
