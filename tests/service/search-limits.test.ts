import { expect } from 'chai';
import knex, { type Knex } from 'knex';
import { ENGINES } from '../support/databases.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { waitFor } from '../support/wait.js';
import { generateRecords } from '../../tooling/generate-records.js';
import { ndjsonChunks, postNdjsonStream } from '../../tooling/ndjson-stream.js';

/**
 * A search is bounded: a scan-shaped query (a `uri` filter, a short or common term) that runs past
 * SEARCH_TIME_LIMIT_MS is stopped by the database itself and answered 422 search-too-broad, and a
 * search whose caller goes away is stopped at once (MySQL/MariaDB; SQLite runs a statement
 * synchronously, bounded by the same limit). Either way the database is idle right after. One
 * caller runs at most SEARCHES_PER_CALLER searches at once on a process.
 */
const ROWS = 60_000;

/** Statements of the records user running right now, other than this one. */
async function running(admin: Knex): Promise<string[]> {
  const [rows] = (await admin.raw(
    "select info from information_schema.processlist where command = 'Query' and id <> connection_id() and info like '%from `records`%'",
  )) as [Array<{ info: string }>];
  return rows.map((row) => row.info);
}

for (const engine of ENGINES) {
  describe(`search time limits on ${engine}`, function () {
    this.timeout(120_000);
    let app: TestApp;
    let admin: Knex | undefined;

    before(async function () {
      app = await startTestApp(engine, { SEARCH_TIME_LIMIT_MS: '10', CACHE: 'off' });
      const loaded = await postNdjsonStream(app.baseUrl, ndjsonChunks(generateRecords(ROWS, 7, 0)));
      expect(loaded.status).to.equal(200);
      if (engine === 'mysql') admin = knex({ client: 'mysql2', connection: app.database.url, pool: { min: 0, max: 1 } });
    });
    after(async () => {
      await admin?.destroy();
      await app?.close();
    });

    it('stops a scan that runs past the limit: 422 search-too-broad naming what narrows it, and the database idle after', async function () {
      const response = await fetch(`${app.baseUrl}/v1/?uri=no-such-uri-anywhere&limit=10`);
      expect(response.status).to.equal(422);
      expect(response.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const problem = (await response.json()) as { type: string; errors: Array<{ parameter: string }> };
      expect(problem.type).to.equal('/problems/search-too-broad');
      expect(problem.errors.map((error) => error.parameter)).to.include.members(['contains', 'uri']);
      if (admin) expect(await running(admin)).to.deep.equal([]);
    });

    it('answers the same search in full when the limit allows it', async function () {
      const relaxed = await startTestApp(engine, { SEARCH_TIME_LIMIT_MS: '60000', CACHE: 'off' }, app.database);
      try {
        const response = await fetch(`${relaxed.baseUrl}/v1/?uri=no-such-uri-anywhere&limit=10`);
        expect(response.status).to.equal(200);
        expect(((await response.json()) as { items: unknown[] }).items).to.deep.equal([]);
      } finally {
        await relaxed.close();
      }
    });

    if (engine === 'mysql') {
      /**
       * Runs `locked` against a second app on the same database, with a relaxed time limit, while
       * the records table is locked (a search's statement then waits, as a long scan would run);
       * then `unlocked`, once the table is free, against the same app.
       */
      async function whileLocked(env: Record<string, string>, locked: (baseUrl: string) => Promise<void>, unlocked: (baseUrl: string) => Promise<void> = async () => {}): Promise<void> {
        const other = await startTestApp(engine, { SEARCH_TIME_LIMIT_MS: '60000', CACHE: 'off', ...env }, app.database);
        const locker = knex({ client: 'mysql2', connection: app.database.url, pool: { min: 1, max: 1 } });
        try {
          await locker.raw('lock tables records write');
          try {
            await locked(other.baseUrl);
          } finally {
            await locker.raw('unlock tables');
          }
          await unlocked(other.baseUrl);
        } finally {
          await locker.destroy();
          await other.close();
        }
      }
      const waiting = async () => (await running(admin!)).length;

      it('runs at most SEARCHES_PER_CALLER searches of one caller at once: the next is answered 429 at once', async function () {
        let first: Promise<Response> | undefined;
        await whileLocked(
          { SEARCHES_PER_CALLER: '1' },
          async (baseUrl) => {
            first = fetch(`${baseUrl}/v1/?uri=the-first-search`);
            await waitFor('the first search to wait for the lock', async () => (await waiting()) === 1);
            const second = await fetch(`${baseUrl}/v1/?uri=the-second-search`);
            expect(second.status).to.equal(429);
            expect(second.headers.get('retry-after')).to.equal('1');
            expect(((await second.json()) as { type: string }).type).to.equal('/problems/too-many-searches');
          },
          async (baseUrl) => {
            expect((await first)?.status, 'the first search, once the table is free').to.equal(200);
            expect((await fetch(`${baseUrl}/v1/?uri=the-third-search`)).status, 'its slot is free again').to.equal(200);
          },
        );
      });

      it('stops the statement when the caller goes away', async function () {
        const caller = new AbortController();
        try {
          await whileLocked({}, async (baseUrl) => {
            const pending = fetch(`${baseUrl}/v1/?uri=waiting-for-the-lock`, { signal: caller.signal }).catch(() => null);
            await waitFor('the search to wait for the lock', async () => (await waiting()) === 1);
            caller.abort();
            await pending;
            await waitFor('the statement to be stopped', async () => (await waiting()) === 0, 5000);
          });
        } finally {
          caller.abort();
        }
      });
    }
  });
}
