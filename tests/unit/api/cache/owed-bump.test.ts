import { expect } from 'chai';
import type { CacheStore } from '../../../../service/src/api/cache/cache-store.js';
import { createMemoryStore } from '../../../../service/src/api/cache/memory-store.js';
import { createRecordsCache } from '../../../../service/src/api/cache/records-cache.js';
import { createLogger } from '../../../../service/src/shared/logger.js';

/**
 * The real in-process store, with increments that can fail before they reach it (Redis down) or
 * reach it and have their reply held (a slow network). The cache itself is the real one.
 */
function faultyStore(inner: CacheStore) {
  let failing = false;
  let held: Promise<void> | null = null;
  let release = () => {};
  const store: CacheStore = {
    ...inner,
    async increment(key, floor) {
      if (failing) throw new Error('store unreachable');
      const value = await inner.increment(key, floor);
      if (held) await held;
      return value;
    },
  };
  return {
    store,
    failIncrements: (on: boolean) => (failing = on),
    holdReplies: () => (held = new Promise<void>((resolve) => (release = resolve))),
    releaseReplies: () => {
      held = null;
      release();
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('a generation bump owed after a cache outage', function () {
  const query = { after: null, before: null, contains: 'owed', uri: null, limit: 10, cursor: null };
  const logger = createLogger({ logLevel: 'silent' });

  it('stays owed when a write fails its bump while an earlier owed bump is in flight', async function () {
    const shared = faultyStore(createMemoryStore({ maxEntries: 100, maxBytes: 1 << 20 }));
    // Two replicas sharing one store, as pods share Redis.
    const here = createRecordsCache({ store: shared.store, ttlSeconds: 60, keyPrefix: 't:', logger });
    const replica = createRecordsCache({ store: shared.store, ttlSeconds: 60, keyPrefix: 't:', logger });
    let database = 'v0';
    const load = async () => database;

    // A write whose bump fails leaves a bump owed here.
    shared.failIncrements(true);
    await here.afterWrite();
    shared.failIncrements(false);

    // A read here pays the owed bump first; the increment lands but its reply is slow.
    shared.holdReplies();
    const reading = here.search(query, load);
    await settle();
    // Meanwhile the replica searches under the bumped generation, before the next write commits.
    expect((await replica.search(query, load)).value).to.equal('v0');

    // That write commits, and its own bump fails: it is owed, and nothing has covered it.
    database = 'v1';
    shared.failIncrements(true);
    await here.afterWrite();
    shared.failIncrements(false);
    shared.releaseReplies();

    // The earlier bump's reply must not settle the later one: the replica's entry predates the write.
    expect((await reading).value, 'the read waiting for the earlier bump').to.equal('v1');
    expect((await here.search(query, load)).value, 'the next read here').to.equal('v1');
    expect((await replica.search(query, load)).value, 'the next read on the replica').to.equal('v1');
  });

  it('is paid on its own while no request comes, once the store is usable again (it waited for the next request, or a ready event a timeout never sends)', async function () {
    const inner = createMemoryStore({ maxEntries: 100, maxBytes: 1 << 20 });
    let skipping = false;
    // Redis after a command timeout: connected, so no ready event, but skipped for a while.
    const store: CacheStore = { ...inner, isAvailable: () => !skipping && inner.isAvailable() };
    const here = createRecordsCache({ store, ttlSeconds: 60, keyPrefix: 'q:', logger, owedRetryMs: 20 });
    const replica = createRecordsCache({ store, ttlSeconds: 60, keyPrefix: 'q:', logger });
    let database = 'v0';
    const load = async () => database;
    expect((await replica.search(query, load)).value).to.equal('v0');
    skipping = true;
    database = 'v1';
    await here.afterWrite();
    skipping = false;
    // No further call on `here`: the bump must still reach the shared store.
    this.timeout(10_000);
    const deadline = Date.now() + 3000;
    while ((await replica.search(query, load)).value !== 'v1' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await replica.search(query, load)).value).to.equal('v1');
    await here.close();
  });
});
