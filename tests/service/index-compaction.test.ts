import { expect } from 'chai';
import fc from 'fast-check';
import type { Database } from '../../service/src/api/data/database.js';
import { createIndexCompactor, planBatches } from '../../service/src/api/data/index-compactor.js';
import { FRAGMENT_BELOW } from '../../service/src/api/data/index-writer.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createSearchIndex } from '../../service/src/api/data/search-index.js';
import type { NewRecord } from '../../service/src/api/domain/record.js';
import { parseSearchQuery } from '../../service/src/api/http/search-params.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';
import { expectedPostings, postingRows, storedPostings } from '../support/postings-check.js';

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'épée', 'straße', 'ﬁsh', 'night', 'owl', '100%', 'a_b', 'zeta9'];
const title = fc.array(fc.constantFrom(...WORDS), { minLength: 0, maxLength: 4 }).map((words) => words.join(' '));
const record = (text: string, i: number): NewRecord => ({ title: i % 23 === 0 ? null : text, uri: null, dateMs: Date.UTC(2020, 0, 1 + (i % 60)), dateRaw: 'x' });

describe('planning merges of small writes', function () {
  const limits = { groupSize: 10, mergeAt: 4, span: 100 };
  const fragment = (first_id: number, n: number) => ({ first_id, last_id: first_id + n - 1, n });

  const batch = (fragments: ReturnType<typeof fragment>[], relist = false) => ({ fragments, records: fragments.reduce((sum, f) => sum + f.n, 0), relist });

  it('cuts batches at the group size and the id span, and waits on a small newest batch', function () {
    const fragments = [fragment(1, 6), fragment(7, 3), fragment(10, 2), fragment(500, 1), fragment(501, 2)];
    expect(planBatches(fragments, limits)).to.deep.equal([batch([fragment(1, 6), fragment(7, 3)]), batch([fragment(10, 2)])]);
    expect(planBatches([], limits)).to.deep.equal([]);
  });

  it('merges the newest batch once it holds mergeAt records, listing it again while under a group', function () {
    const older = [fragment(1, 6), fragment(7, 3)];
    expect(planBatches([...older, fragment(500, 1), fragment(501, 2), fragment(503, 1)], limits).at(-1)).to.deep.equal(batch([fragment(500, 1), fragment(501, 2), fragment(503, 1)], true));
    // Closed by the span, a batch under a group's size is merged for good; a full newest one too.
    expect(planBatches([fragment(1, 2), fragment(500, 5)], limits)).to.deep.equal([batch([fragment(1, 2)]), batch([fragment(500, 5)], true)]);
    expect(planBatches([fragment(500, 4), fragment(504, 6)], limits)).to.deep.equal([batch([fragment(500, 4), fragment(504, 6)])]);
  });
});

for (const engine of ENGINES) {
  describe(`merging small writes in the search index on ${engine}`, function () {
    this.timeout(300_000);
    const suite = migratedDatabaseForSuite(engine);
    let db: Database;
    let write: (records: NewRecord[]) => Promise<number[]>;
    let fragmentsWritten = 0;

    before(async function () {
      db = suite.db;
      const store = createRecordsStore({ db, batchSize: 300, onFragments: (n) => (fragmentsWritten += n) });
      write = (records) => store.inTransaction((tx) => tx.insert(records));
    });

    it('lists a small write as a fragment, and a load of a full group not at all', async function () {
      const before = fragmentsWritten;
      const [id] = await write([record('alpha beta', 1)]);
      expect(fragmentsWritten - before).to.equal(1);
      expect(await db.knex('index_fragments').where('first_id', id as number).first()).to.deep.include({ n: 1 });
      const big = await write(Array.from({ length: FRAGMENT_BELOW }, (_, i) => record(`gamma ${i}`, i)));
      expect(fragmentsWritten - before).to.equal(1);
      expect(await db.knex('index_fragments').where('first_id', big[0] as number).first()).to.equal(undefined);
    });

    it('keeps every posting exactly once through merges of random small writes, and answers searches as the scan does', async function () {
      const compactor = createIndexCompactor({ db, limits: { groupSize: 40, mergeAt: 12, span: 400 } });
      const auto = createSearchIndex({ db, timeLimitMs: 60_000 });
      const scan = createSearchIndex({ db, timeLimitMs: 60_000, strategy: 'scan' });
      const step = fc.tuple(fc.array(fc.array(title, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 12 }), fc.boolean());
      let merged = 0;
      await fc.assert(
        fc.asyncProperty(step, fc.constantFrom(...WORDS), async ([writes, compact], term) => {
          for (const titles of writes) await write(titles.map(record));
          if (compact) merged += (await compactor.compact()).batches;
          expect(await storedPostings(db.knex)).to.deep.equal(await expectedPostings(db.knex));
          const query = parseSearchQuery({ contains: term.slice(0, 4), limit: '50' });
          expect(await auto.search(query)).to.deep.equal(await scan.search(query));
        }),
        { numRuns: 30, seed: 11 },
      );
      expect(merged, 'merges ran').to.be.greaterThan(0);
    });

    it('merges 300 one-record writes into fewer rows than they wrote, listing them again as one fragment to grow', async function () {
      const compactor = createIndexCompactor({ db, limits: { groupSize: 8192, mergeAt: 1, span: 1 << 20 } });
      await compactor.compact();
      const rowsBefore = await postingRows(db.knex);
      for (let i = 0; i < 300; i += 1) await write([record('delta night owl', i + 1)]);
      const rowsWritten = (await postingRows(db.knex)) - rowsBefore;
      const result = await compactor.compact();
      expect(result.batches).to.equal(1);
      expect((await postingRows(db.knex)) - rowsBefore).to.be.lessThan(rowsWritten / 50);
      // Under a group's size, the newest batch stays listed (as one fragment) for later writes to join.
      const listed = (await db.knex('index_fragments').select('n')) as Array<{ n: number }>;
      expect(listed).to.have.length(1);
      expect(Number(listed[0]?.n), 'the 300, and what earlier tests left listed').to.be.at.least(300);
      expect(await storedPostings(db.knex)).to.deep.equal(await expectedPostings(db.knex));
    });
  });
}
