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
        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records']);
        expect(await migrationsCurrent(db.knex)).to.equal(true);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
        expect(await db.knex.schema.hasColumn('records', 'title_folded')).to.equal(true);
        expect(await migrateLatest(db.knex), 'second run applies nothing').to.deep.equal([]);

        await db.knex.migrate.rollback(migrationConfig, true);
        expect(await db.knex.schema.hasTable('records')).to.equal(false);
        expect(await migrationsCurrent(db.knex)).to.equal(false);

        expect(await migrateLatest(db.knex)).to.deep.equal(['0001_create_records']);
        expect(await db.knex.schema.hasTable('records')).to.equal(true);
      } finally {
        await db.close();
        await testDb.drop();
      }
    });
  });
}
