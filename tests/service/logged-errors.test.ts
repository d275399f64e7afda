import { Writable } from 'node:stream';
import { expect } from 'chai';
import Koa from 'koa';
import pino from 'pino';
import { problemMiddleware } from '../../service/src/api/http/problem.js';
import { unavailable } from '../../service/src/api/data/guarded.js';
import { ENGINES, migratedDatabaseForSuite } from '../support/databases.js';

/**
 * A database failure is logged without the data of the statement that failed: the drivers put
 * the whole statement, values included, in the error's message, stack and `sql` (a failed bulk
 * load's titles and URIs, hundreds of KB), and records are not for the logs.
 */
for (const engine of ENGINES) {
  describe(`the log line of a failed write on ${engine}`, function () {
    const suite = migratedDatabaseForSuite(engine);

    it('names the statement, without its values', async function () {
      // A real driver error: the same id twice, which the primary key refuses.
      const failed = await suite.db.knex.raw("insert into records (id, title, uri, date_ms, date_raw, title_folded, uri_folded) values (7, 'a secret title', 'https://secret.example/x', 0, 'x', 'a secret title', ''), (7, 'a secret title', 'https://secret.example/x', 0, 'x', 'a secret title', '')").then(
        () => expect.fail('a duplicate id was stored'),
        (error: unknown) => error,
      );
      const lines: string[] = [];
      const logger = pino({ level: 'error' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
      const app = new Koa().use(problemMiddleware({ logger })).use(() => {
        throw unavailable(failed);
      });
      const server = app.listen(0, '127.0.0.1');
      try {
        await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as { port: number };
        expect((await fetch(`http://127.0.0.1:${port}/`)).status).to.equal(503);
      } finally {
        server.close();
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/insert into records \(id, title, uri, date_ms, date_raw, title_folded, uri_folded\) values \.\.\./);
      expect(lines[0]).not.to.match(/secret/);
      // The driver's reason stays.
      expect(lines[0]).to.match(/Duplicate entry|UNIQUE constraint failed/);
    });
  });
}
