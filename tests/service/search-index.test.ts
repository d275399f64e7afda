import { expect } from 'chai';
import fc from 'fast-check';
import type { Database } from '../../service/src/api/data/database.js';
import { createRecordsStore } from '../../service/src/api/data/records-store.js';
import { createSearchIndex, type SearchStrategy } from '../../service/src/api/data/search-index.js';
import type { NewRecord } from '../../service/src/api/domain/record.js';
import type { SearchQuery } from '../../service/src/api/domain/search-query.js';
import { parseSearchQuery } from '../../service/src/api/http/search-params.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';

// Letters that fold in interesting ways, the LIKE wildcards and escape, and spaces.
const ALPHABET = ['a', 'b', 'e', 'é', 'E', 'É', 'o', 'œ', 'Œ', 's', 'ß', 'S', 'i', 'İ', 'ı', '%', '_', '\\', '!', ' ', 'ﬁ', 'n', 'ñ'];
const text = (min: number, max: number) => fc.array(fc.constantFrom(...ALPHABET), { minLength: min, maxLength: max }).map((chars) => chars.join(''));
const DAY = 86_400_000;
const BASE = Date.UTC(2010, 0, 1);

for (const engine of ENGINES) {
  describe(`indexed substring search on ${engine}`, function () {
    this.timeout(120_000);
    const suite = migratedDatabaseForSuite(engine);
    let db: Database;
    let insert: (records: NewRecord[]) => Promise<number[]>;
    let search: (query: SearchQuery, strategy: SearchStrategy) => ReturnType<ReturnType<typeof createSearchIndex>['search']>;
    let titles: string[];

    before(async function () {
      db = suite.db;
      // Small posting groups: one transaction writes several, as big loads do.
      const store = createRecordsStore({ db, batchSize: 300, postingGroup: 128 });
      insert = (records) => store.inTransaction((tx) => tx.insert(records));
      const indexes = { auto: createSearchIndex({ db, timeLimitMs: 60_000 }), scan: createSearchIndex({ db, timeLimitMs: 60_000, strategy: 'scan' }), index: createSearchIndex({ db, timeLimitMs: 60_000, strategy: 'index' }) };
      search = (query, strategy) => indexes[strategy].search(query);
      titles = fc.sample(text(0, 24), { numRuns: 600, seed: 42 });
      const records = titles.map((title, i) => ({
        title: i % 37 === 0 ? null : title,
        uri: null,
        dateMs: BASE + (i % 90) * DAY,
        dateRaw: 'x',
      }));
      await insert(records);
    });

    it('returns exactly what the plain scan returns, for random terms, cases, accents, wildcards and date ranges', async function () {
      const term = fc.oneof(
        text(1, 6),
        fc.tuple(fc.nat(599), fc.nat(20), fc.integer({ min: 1, max: 8 })).map(([i, start, length]) => (titles[i] ?? '').slice(start, start + length)),
      );
      const query = fc.record({
        contains: term.map((t) => (t.length > 0 ? t.toUpperCase() : 'a')),
        range: fc.option(fc.tuple(fc.nat(80), fc.integer({ min: 1, max: 30 })), { nil: null }),
        limit: fc.integer({ min: 1, max: 40 }),
      });
      await fc.assert(
        fc.asyncProperty(query, async ({ contains, range, limit }) => {
          const raw: Record<string, string> = { contains, limit: String(limit) };
          if (range) {
            raw.after = new Date(BASE + range[0] * DAY).toISOString().slice(0, 10);
            raw.before = new Date(BASE + (range[0] + range[1]) * DAY).toISOString().slice(0, 10);
          }
          const parsed = parseSearchQuery(raw);
          const scan = await search(parsed, 'scan');
          const indexed = await search(parsed, 'index');
          const planned = await search(parsed, 'auto');
          expect(indexed, JSON.stringify(raw)).to.deep.equal(scan);
          expect(planned, JSON.stringify(raw)).to.deep.equal(scan);
          // The next page too, through the cursor.
          if (scan.next) {
            const nextQuery = { ...parsed, cursor: scan.next };
            expect(await search(nextQuery, 'index')).to.deep.equal(await search(nextQuery, 'scan'));
          }
        }),
        { numRuns: 150, seed: 7 },
      );
    });

    it('finds a term in every case and accent form, and takes wildcards literally', async function () {
      const [inserted] = await insert([{ title: 'Zzq Éclair_100%', uri: null, dateMs: BASE, dateRaw: 'x' }]);
      for (const contains of ['eclair_100%', 'ÉCLAIR', 'zzq éc', 'r_1']) {
        const page = await search(parseSearchQuery({ contains }), 'auto');
        expect(page.records.map((record) => record.id), contains).to.include(inserted);
      }
      expect((await search(parseSearchQuery({ contains: 'eclair%100' }), 'auto')).records).to.deep.equal([]);
    });
  });
}
