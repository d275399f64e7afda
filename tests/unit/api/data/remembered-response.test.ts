import { expect } from 'chai';
import mysql from 'mysql2';
import { largestRemembered, WIDEST_NAME_CHARACTER_BYTES } from '../../../../service/src/api/data/idempotency-store.js';
import { checkItem, MAX_JSON_ITEMS, readItemsDocument } from '../../../../service/src/api/domain/bulk-items.js';
import type { StreamResult } from '../../../../service/src/api/domain/stream-ingest.js';
import { MAX_REPORTED_REJECTIONS } from '../../../../service/src/api/domain/stream-items.js';

/**
 * The bounds the start-up check compares with max_allowed_packet (data/database.ts): a response
 * remembered for an Idempotency-Key is inserted as JSON, escaped, in one statement.
 */
describe('the largest response remembered for an Idempotency-Key', function () {
  this.timeout(60_000);
  /** What the response takes in the INSERT: JSON as writeOnce stores it, escaped as mysql2 sends it. */
  const insertedBytes = (response: unknown) => Buffer.byteLength(mysql.escape(JSON.stringify(response)));
  const bounds = largestRemembered({ ndjsonBodyLimit: 2 ** 30, rowsPerInsert: 500 });

  it('bounds each character of an echoed field name at its widest, over every code point and lone surrogate', function () {
    let widest = 0;
    for (let unit = 0; unit <= 0x10ffff; unit += 1) {
      const character = unit >= 0xd800 && unit <= 0xdfff ? String.fromCharCode(unit) : String.fromCodePoint(unit);
      widest = Math.max(widest, insertedBytes(character) - insertedBytes(''));
    }
    expect(widest).to.equal(WIDEST_NAME_CHARACTER_BYTES);
  });

  it("holds a JSON document's response, every item rejected at its widest, and is no more than a fifth above the widest found", function () {
    const documents: Record<string, unknown[]> = {
      'control characters': [{ ['\u0001'.repeat(70)]: 1 }],
      'lone surrogates': [{ ['\ud800'.repeat(70)]: 1 }],
      quotes: [{ ['"'.repeat(70)]: 1 }],
      'astral characters': [{ ['😀'.repeat(70)]: 1 }],
      'ambiguous dates': [{ date: '01/02/2020' }],
      'dates without a year': [{ date: 'May 23' }],
      'items not objects': [7],
    };
    let worst = 0;
    for (const [what, [item]] of Object.entries(documents)) {
      const { accepted, rejected } = readItemsDocument(Buffer.from(JSON.stringify({ items: Array(MAX_JSON_ITEMS).fill(item) })));
      expect(accepted, what).to.have.length(0);
      const bytes = insertedBytes({ inserted: 0, ids: [], rejected });
      expect(bytes, what).to.be.at.most(bounds.documentBytes);
      worst = Math.max(worst, bytes);
    }
    expect(bounds.documentBytes).to.be.at.most(worst * 1.2);
  });

  it("holds a stream's response: its reported rejections at their widest and an id range per INSERT", function () {
    const rejection = checkItem({ ['\u0001'.repeat(70)]: 1 });
    if (rejection.ok) throw new Error('an unknown field is rejected');
    for (const [ndjsonBodyLimit, rowsPerInsert] of [
      [2 ** 30, 500],
      [2 ** 30, 32],
      [64 * 2 ** 20, 4000],
    ] as const) {
      const { streamBytes, streamLimitWithin } = largestRemembered({ ndjsonBodyLimit, rowsPerInsert });
      const lines = Math.ceil(ndjsonBodyLimit / 16);
      const ranges = Math.ceil(lines / rowsPerInsert);
      const response: StreamResult = {
        inserted: lines,
        idRanges: Array.from({ length: ranges }, (_, i) => [2 ** 53 - 2 * ranges + 2 * i, 2 ** 53 - 2 * ranges + 2 * i]),
        rejected: Array.from({ length: MAX_REPORTED_REJECTIONS }, (_, i) => ({ line: lines - i, field: rejection.field, message: rejection.message })),
        rejectedCount: MAX_REPORTED_REJECTIONS,
      };
      expect(insertedBytes(response), `${ndjsonBodyLimit} bytes, ${rowsPerInsert} rows per INSERT`).to.be.at.most(streamBytes);
      // The limit the refusal suggests gives a response that fits the packet it was asked for.
      expect(largestRemembered({ ndjsonBodyLimit: streamLimitWithin(streamBytes - 1), rowsPerInsert }).streamBytes).to.be.at.most(streamBytes - 1);
    }
  });
});
