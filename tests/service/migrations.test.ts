import { expect } from 'chai';
import { createDatabase } from '../../service/src/api/data/database.js';
import { migrateLatest, migrationConfig, migrationsCurrent } from '../../service/src/api/data/migrations/index.js';
import { decodeIds } from '../../service/src/api/data/postings.js';
import { createTestDatabase } from '../support/databases.js';
import { ENGINES } from '../support/databases.js';

for (const engine of ENGINES) {
  describe(`migrations on ${engine}`, function () {
    it('apply, are idempotent, roll back completely and apply again', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        expect(await migrationsCurrent(db.knex)).to.equal(false);
        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments']);
        expect(await migrationsCurrent(db.knex)).to.equal(true);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
        expect(await db.knex.schema.hasColumn('records', 'title_folded')).to.equal(true);
        expect(await db.knex.schema.hasTable('title_postings')).to.equal(true);
        expect(await db.knex.schema.hasTable('title_trigrams'), 'replaced by title_postings').to.equal(false);
        expect(await migrateLatest(db.knex), 'second run applies nothing').to.deep.equal([]);

        await db.knex.migrate.rollback(migrationConfig, true);
        expect(await db.knex.schema.hasTable('records')).to.equal(false);
        expect(await db.knex.schema.hasTable('title_trigrams')).to.equal(false);
        expect(await db.knex.schema.hasTable('title_postings')).to.equal(false);
        expect(await migrationsCurrent(db.knex)).to.equal(false);

        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments']);
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
        expect(await migrationsCurrent(db.knex)).to.equal(true);
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
        expect(await migrateLatest(db.knex)).to.deep.equal(['0002_title_trigrams', '0003_idempotency_keys', '0004_title_postings', '0005_index_fragments']);
        const rows = (await db.knex('title_postings').select('trigram', 'first_id', 'n', 'ids').orderBy('trigram')) as Array<{ trigram: string; first_id: number; n: number; ids: Uint8Array }>;
        const postings = Object.fromEntries(rows.map((row) => [row.trigram, decodeIds(Number(row.first_id), row.ids)]));
        expect(postings).to.deep.equal({ ate: [1], cha: [1], eau: [1], hat: [1, 3], tea: [1] });
        expect(rows.map((row) => Number(row.n))).to.deep.equal([1, 1, 1, 2, 1]);

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
