import { expect } from 'chai';
import { createDatabase, type Database } from '../../service/src/api/data/database.js';

/**
 * Statements on MariaDB: those with no values are sent as written (the bulk INSERTs, formatted on
 * a write worker, are not scanned again for placeholders on the event loop: data/database.ts
 * `sentAsWritten`); those with values are escaped exactly as mysql2 escapes them.
 */
describe('statement formatting on MariaDB', function () {
  let db: Database;
  before(function () {
    db = createDatabase(process.env.TEST_MYSQL_URL!);
  });
  after(async () => db?.close());

  it('escapes values as mysql2 does: quotes, backslashes, null, bytes, numbers and dates in UTC', async () => {
    const values = ["it's a \\ test ?", null, Buffer.from([0, 1, 2, 0x27]), 12.5, new Date(Date.UTC(2021, 2, 4, 5, 6, 7, 8))];
    const [rows] = (await db.knex.raw('select ? as text, ? as nothing, hex(?) as bytes, ? as num, ? as date', values)) as [Array<Record<string, unknown>>];
    expect(rows[0]).to.deep.equal({ text: "it's a \\ test ?", nothing: null, bytes: '00010227', num: '12.5', date: '2021-03-04 05:06:07.008' });
  });

  it('sends a statement without values as written, question marks and all', async () => {
    const [rows] = (await db.knex.raw("select '?' as mark, 'a ?? b' as marks, 1 as one")) as [Array<Record<string, unknown>>];
    expect(rows[0]).to.deep.equal({ mark: '?', marks: 'a ?? b', one: 1 });
  });
});
