import { expect } from 'chai';
import { createDatabase } from '../src/data/database.js';
import { migrateLatest, migrationConfig, migrationsCurrent } from '../src/data/migrations/index.js';
import { createTestDatabase } from './support/databases.js';
import { ENGINES } from './support/databases.js';

for (const engine of ENGINES) {
  describe(`migrations on ${engine}`, function () {
    it('apply, are idempotent, roll back completely and apply again', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        expect(await migrationsCurrent(db.knex)).to.equal(false);
        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys']);
        expect(await migrationsCurrent(db.knex)).to.equal(true);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
        expect(await db.knex.schema.hasColumn('records', 'title_folded')).to.equal(true);
        expect(await db.knex.schema.hasTable('title_trigrams')).to.equal(true);
        expect(await migrateLatest(db.knex), 'second run applies nothing').to.deep.equal([]);

        await db.knex.migrate.rollback(migrationConfig, true);
        expect(await db.knex.schema.hasTable('records')).to.equal(false);
        expect(await db.knex.schema.hasTable('title_trigrams')).to.equal(false);
        expect(await migrationsCurrent(db.knex)).to.equal(false);

        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records', '0002_title_trigrams', '0003_idempotency_keys']);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}

for (const engine of ENGINES) {
  describe(`trigram backfill on ${engine}`, function () {
    it('indexes records stored before the trigram migration', async function () {
      const testDb = await createTestDatabase(engine);
      const db = createDatabase(testDb.url);
      try {
        await db.knex.migrate.up({ ...migrationConfig, name: '0001_create_records' });
        await db.knex('records').insert([
          { title: 'Château', uri: null, date_ms: 0, date_raw: '1970-01-01', title_folded: 'chateau', uri_folded: '' },
          { title: null, uri: null, date_ms: 0, date_raw: '1970-01-01', title_folded: '', uri_folded: '' },
        ]);
        expect(await migrateLatest(db.knex)).to.deep.equal(['0002_title_trigrams', '0003_idempotency_keys']);
        const grams = (await db.knex('title_trigrams').select('trigram').orderBy('trigram')).map((row: { trigram: string }) => row.trigram);
        expect(grams).to.deep.equal(['ate', 'cha', 'eau', 'hat', 'tea']);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}
