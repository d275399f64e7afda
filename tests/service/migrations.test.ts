import { expect } from 'chai';
import { createDatabase, type Database } from '../../service/src/api/data/database.js';
import { migrateLatest, migrationConfig, migrationsCurrent } from '../../service/src/api/data/migrations/index.js';
import { createPostingsBuilder, decodeIds } from '../../service/src/api/data/postings.js';
import { refoldIfBehind, refoldRecords } from '../../service/src/api/data/refold.js';
import { createSearchIndex } from '../../service/src/api/data/search-index.js';
import { FOLDING_VERSION, foldText, foldUri } from '../../service/src/api/domain/text.js';
import { parseSearchQuery } from '../../service/src/api/http/search-params.js';
import { expectedPostings, storedPostings } from '../support/postings-check.js';
import { createTestDatabase } from '../support/databases.js';
import { ENGINES } from '../support/databases.js';

for (const engine of ENGINES) {
  describe(`migrations on ${engine}`, function () {
    it('apply, are idempotent, roll back completely and apply again', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        expect(await migrationsCurrent(db)).to.equal(false);
        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments', '0006_text_folding']);
        expect(await migrationsCurrent(db)).to.equal(true);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
        expect(await db.knex.schema.hasColumn('records', 'title_folded')).to.equal(true);
        expect(await db.knex.schema.hasTable('title_postings')).to.equal(true);
        expect(await db.knex.schema.hasTable('title_trigrams'), 'replaced by title_postings').to.equal(false);
        expect(await migrateLatest(db.knex), 'second run applies nothing').to.deep.equal([]);

        await db.knex.migrate.rollback(migrationConfig, true);
        expect(await db.knex.schema.hasTable('records')).to.equal(false);
        expect(await db.knex.schema.hasTable('title_trigrams')).to.equal(false);
        expect(await db.knex.schema.hasTable('title_postings')).to.equal(false);
        expect(await migrationsCurrent(db)).to.equal(false);

        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments', '0006_text_folding']);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}

for (const engine of ENGINES) {
  describe(`a database migrated by a later release, on ${engine}`, function () {
    it('is current for this release, and migrating it again changes nothing (rolling upgrades and rollbacks)', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        await migrateLatest(db.knex);
        await db.knex('knex_migrations').insert({ name: '9999_a_later_release', batch: 99, migration_time: new Date() });
        expect(await migrationsCurrent(db)).to.equal(true);
        expect(await migrateLatest(db.knex)).to.deep.equal([]);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}

for (const engine of ENGINES) {
  describe(`search index backfill on ${engine}`, function () {
    it('indexes records stored before the index migrations, and rolls back to the per-record table', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        await db.knex.migrate.up({ ...migrationConfig, name: '0001_create_records' });
        await db.knex('records').insert([
          { title: 'Château', uri: null, date_ms: 0, date_raw: '1970-01-01', title_folded: 'chateau', uri_folded: '' },
          { title: null, uri: null, date_ms: 0, date_raw: '1970-01-01', title_folded: '', uri_folded: '' },
          { title: 'Hat', uri: null, date_ms: 0, date_raw: '1970-01-01', title_folded: 'hat', uri_folded: '' },
        ]);
        expect(await migrateLatest(db.knex)).to.deep.equal(['0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments', '0006_text_folding']);
        const rows = (await db.knex('title_postings').select('trigram', 'first_id', 'n', 'ids').orderBy('trigram')) as Array<{ trigram: string; first_id: number; n: number; ids: Uint8Array }>;
        const postings = Object.fromEntries(rows.map((row) => [row.trigram, decodeIds(Number(row.first_id), row.ids)]));
        expect(postings).to.deep.equal({ ate: [1], cha: [1], eau: [1], hat: [1, 3], tea: [1] });
        expect(rows.map((row) => Number(row.n))).to.deep.equal([1, 1, 1, 2, 1]);

        await db.knex.migrate.down(migrationConfig); // 0006: the folding version
        await db.knex.migrate.down(migrationConfig); // 0005: the fragments list
        await db.knex.migrate.down(migrationConfig);
        const grams = (await db.knex('title_trigrams').select('trigram', 'record_id').orderBy(['trigram', 'record_id'])) as Array<{ trigram: string; record_id: number }>;
        expect(grams.map((row) => `${row.trigram}:${Number(row.record_id)}`)).to.deep.equal(['ate:1', 'cha:1', 'eau:1', 'hat:1', 'hat:3', 'tea:1']);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}

/**
 * The previous release's folding (version 1), as this test's model of it: final sigma as lower
 * case leaves it, Hangul syllables left as jamo. The titles below need none of the letter
 * equivalents both versions share.
 */
const foldedByVersion1 = (text: string) => text.normalize('NFKD').toLowerCase().normalize('NFKD').replace(/\p{M}+/gu, '');

for (const engine of ENGINES) {
  describe(`refolding text stored by the previous folding, on ${engine}`, function () {
    const titles = ['ΚΟΣΜΟΣ', 'λόγος και ΛΟΓΟΣ', '한국어 사전', 'ᄀᄂᄃ unjoined jamo', 'plain title', null, '가각간 mixed ς', 'ΚΟΣΜΟΣ again', '한국 again'];
    // All but the unjoined jamo and the null title, whose URIs keep their folding too.
    const changing = 7;

    /** A migrated database whose records, and their index, were written with version 1's folding. */
    async function storedByVersion1() {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      await migrateLatest(db.knex);
      const builder = createPostingsBuilder();
      for (const [i, title] of titles.entries()) {
        const uri = i % 2 === 0 ? `https://example.org/ΚΟΣΜΟΣ/${i}` : null;
        await db.knex('records').insert({ title, uri, date_ms: i, date_raw: 'x', title_folded: foldedByVersion1(title ?? ''), uri_folded: (uri ?? '').toLowerCase() });
        builder.add(i + 1, foldedByVersion1(title ?? ''));
      }
      // One group: rows hold the ids of several records, which a pass in small steps takes out a few at a time.
      await db.knex('title_postings').insert(builder.drain());
      expect(await storedPostings(db.knex), 'the index as version 1 built it').to.deep.equal(await expectedPostings(db.knex));
      return { db, drop: async () => (await db.close(), await testDb.drop()) };
    }

    async function expectRefolded(db: Database) {
      const rows = (await db.knex('records').select('title', 'uri', 'title_folded', 'uri_folded')) as Array<{ title: string | null; uri: string | null; title_folded: string; uri_folded: string }>;
      for (const row of rows) {
        expect(row.title_folded, String(row.title)).to.equal(foldText(row.title ?? ''));
        expect(row.uri_folded, String(row.uri)).to.equal(foldUri(row.uri ?? ''));
      }
      expect(await storedPostings(db.knex), 'every posting exactly once').to.deep.equal(await expectedPostings(db.knex));
    }
    const version = async (db: Database) => Number(((await db.knex('text_folding').where('id', 1).first()) as { version: number }).version);

    it('is brought to this release once, after the migrations, exactly', async function () {
      const { db, drop } = await storedByVersion1();
      try {
        expect(await version(db)).to.equal(1);
        expect(await refoldIfBehind(db.knex)).to.deep.include({ records: titles.length, refolded: changing });
        expect(await version(db)).to.equal(FOLDING_VERSION);
        await expectRefolded(db);
        const index = createSearchIndex({ db, timeLimitMs: 60_000 });
        const found = async (params: Record<string, string>) => (await index.search(parseSearchQuery(params))).records.map((record) => record.title);
        expect(await found({ contains: 'ΚΟΣΜ' })).to.deep.equal(['ΚΟΣΜΟΣ', 'ΚΟΣΜΟΣ again']);
        expect(await found({ contains: 'ΚΟΣ' })).to.deep.equal(['ΚΟΣΜΟΣ', 'ΚΟΣΜΟΣ again']);
        expect(await found({ contains: 'ογοσ κ' })).to.deep.equal(['λόγος και ΛΟΓΟΣ']);
        expect(await found({ contains: '한국어' })).to.deep.equal(['한국어 사전']);
        expect(await found({ contains: '하' })).to.deep.equal([]);
        expect(await found({ contains: 'ᄀᄂᄃ' })).to.deep.equal(['ᄀᄂᄃ unjoined jamo']);
        expect(await found({ contains: '각간 m' })).to.deep.equal(['가각간 mixed ς']);
        expect((await found({ uri: 'ΚΟΣΜΟΣ/' })).length).to.equal(5);

        expect(await refoldIfBehind(db.knex), 'current: no pass').to.equal(null);
        expect(await refoldRecords(db.knex), 'a pass forced on current text').to.deep.equal({ records: titles.length, refolded: 0, postingsRemoved: 0 });
        await expectRefolded(db);
      } finally {
        await drop();
      }
    });

    it('keeps the index exact in steps that cut posting rows apart, and with two passes at once', async function () {
      for (const passes of [[{ recordsPerStep: 2, rowsPerStep: 1 }], [{}, { recordsPerStep: 3, rowsPerStep: 1 }]]) {
        const { db, drop } = await storedByVersion1();
        try {
          const results = await Promise.all(passes.map((steps) => refoldRecords(db.knex, steps)));
          expect(results.reduce((sum, result) => sum + result.refolded, 0), `each record refolded once (${JSON.stringify(passes)})`).to.equal(changing);
          await expectRefolded(db);
        } finally {
          await drop();
        }
      }
    });
  });
}
