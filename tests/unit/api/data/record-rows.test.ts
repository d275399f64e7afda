import { expect } from 'chai';
import mysql from 'mysql2';
import { prepareInsert } from '../../../../service/src/api/data/insert-rows.js';
import {
  INSERT_COLUMNS,
  MAX_RECORD_ROW_BYTES,
  toRow,
  WIDEST_CHARACTER_BYTES,
  WIDEST_FOLDED_TITLE_CHARACTER_BYTES,
  WIDEST_FOLDED_URI_CHARACTER_BYTES,
} from '../../../../service/src/api/data/record-rows.js';
import { TITLE_MAX_LENGTH, URI_MAX_LENGTH } from '../../../../service/src/api/domain/record.js';
import { foldText, foldUri } from '../../../../service/src/api/domain/text.js';

/** The bound the start-up check compares with max_allowed_packet (data/database.ts) holds for every character. */
describe('the largest row of a records INSERT', function () {
  this.timeout(30_000);
  const escapedBytes = (text: string) => Buffer.byteLength(mysql.escape(text)) - 2;

  it('bounds each character at its widest, raw, folded as a title and folded as a URI, over every code point', function () {
    let raw = 0;
    let title = 0;
    let uri = 0;
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint += 1) {
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
      const character = String.fromCodePoint(codePoint);
      raw = Math.max(raw, escapedBytes(character));
      title = Math.max(title, escapedBytes(foldText(character)));
      uri = Math.max(uri, escapedBytes(foldUri(character)));
    }
    expect({ raw, title, uri }).to.deep.equal({ raw: WIDEST_CHARACTER_BYTES, title: WIDEST_FOLDED_TITLE_CHARACTER_BYTES, uri: WIDEST_FOLDED_URI_CHARACTER_BYTES });
  });

  it('holds a row of the widest characters at the maximum lengths', function () {
    const widest = { title: '\u{FDFA}'.repeat(TITLE_MAX_LENGTH), uri: '😀'.repeat(URI_MAX_LENGTH), dateMs: -30_610_224_000_000, dateRaw: '😀'.repeat(64) };
    const one = prepareInsert('mysql', 'records', INSERT_COLUMNS, [toRow(widest)]);
    const two = prepareInsert('mysql', 'records', INSERT_COLUMNS, [toRow(widest), toRow(widest)]);
    if (!('sql' in one) || !('sql' in two)) throw new Error('MySQL inserts are formatted statements');
    const rowBytes = Buffer.byteLength(two.sql) - Buffer.byteLength(one.sql);
    expect(rowBytes).to.be.within(MAX_RECORD_ROW_BYTES * 0.7, MAX_RECORD_ROW_BYTES);
  });
});
