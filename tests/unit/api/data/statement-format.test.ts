import { expect } from 'chai';
import mysql from 'mysql2';
import { sentAsWritten } from '../../../../service/src/api/data/database.js';

/**
 * mysql2's `queryFormat` on MariaDB connections (data/database.ts): a statement without values is
 * sent as written, never scanned (the bulk INSERTs come formatted from a write worker, hundreds of
 * KiB each); one with values is formatted by mysql2's own function with the connection's settings.
 */
describe('statements sent as written when they have no values', function () {
  const connection = { config: { stringifyObjects: false } };
  const format = mysql.format;
  // mysql2 is CommonJS: its exports object is the one data/database.ts calls format on.
  const exported = mysql as { format: typeof format };
  let calls = 0;
  beforeEach(() => {
    calls = 0;
    exported.format = (...args: Parameters<typeof format>) => {
      calls += 1;
      return format(...args);
    };
  });
  afterEach(() => {
    exported.format = format;
  });

  it('sends one without values as written, without formatting it', () => {
    const sql = "insert into records (title) values ('a ? b'), ('?? c')";
    for (const values of [[], undefined]) expect(sentAsWritten.call(connection, sql, values, 'Z')).to.equal(sql);
    expect(calls, 'mysql2 format calls').to.equal(0);
  });

  it('formats one with values exactly as mysql2 does: placeholders, identifiers, quotes, bytes, dates in the time zone given', () => {
    const cases: Array<[string, Parameters<typeof format>[1]]> = [
      ['select ? as a, ?? as b', ["it's \\ ?", 'col']],
      ['insert into t set ?', [{ title: 'x', uri: null }]],
      ['select ?, ?, ?', [Buffer.from([0, 39]), new Date(Date.UTC(2021, 2, 4, 5, 6, 7, 8)), 12.5]],
      ['select ?', 'one value, not in an array'],
    ];
    for (const [sql, values] of cases) expect(sentAsWritten.call(connection, sql, values, 'Z'), sql).to.equal(format(sql, values, false, 'Z'));
    expect(calls).to.equal(cases.length);
  });
});
