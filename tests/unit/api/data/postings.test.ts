import { expect } from 'chai';
import fc from 'fast-check';
import mysql from 'mysql2';
import { createIndexWriter } from '../../../../service/src/api/data/index-writer.js';
import { trigramsOf } from '../../../../service/src/api/domain/trigrams.js';
import { createPostingsBuilder, decodeIds, encodeIds, POSTING_STATEMENT_BYTES, postingRowBytes, runsWithin } from '../../../../service/src/api/data/postings.js';

describe('posting lists', function () {
  it('decode to the ids they encode, for any increasing ids from any base', function () {
    const increasing = fc.tuple(fc.nat(2 ** 40), fc.array(fc.nat(2 ** 36), { maxLength: 300 })).map(([base, gaps]) => {
      let id = base;
      return { base, ids: gaps.map((gap) => (id += gap)) };
    });
    fc.assert(
      fc.property(increasing, ({ base, ids }) => {
        expect(decodeIds(base, encodeIds(base, ids))).to.deep.equal(ids);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('spend one byte on a gap below 128 and grow by one byte per 7 bits', function () {
    expect([...encodeIds(10, [10, 11, 138, 139 + 16_384])]).to.deep.equal([0, 1, 127, 0x81, 0x80, 0x01]);
  });

  it('group a transaction’s titles into one row per distinct trigram, first id first', function () {
    const builder = createPostingsBuilder();
    builder.add(7, 'abcd');
    builder.add(9, 'bcde');
    builder.add(12, 'ab');
    expect(builder.records).to.equal(3);
    const rows = builder.drain().map((row) => ({ trigram: row.trigram, first: row.first_id, n: row.n, ids: decodeIds(row.first_id, row.ids) }));
    expect(rows).to.deep.equal([
      { trigram: 'abc', first: 7, n: 1, ids: [7] },
      { trigram: 'bcd', first: 7, n: 2, ids: [7, 9] },
      { trigram: 'cde', first: 9, n: 1, ids: [9] },
    ]);
    expect(builder.records, 'drained').to.equal(0);
    expect(builder.drain()).to.deep.equal([]);
  });

  // The reference: a title's distinct trigrams by code point, each record listed once per trigram.
  const referenceTrigrams = (text: string) => {
    const chars = Array.from(text);
    return [...new Set(chars.slice(0, Math.max(0, chars.length - 2)).map((_, i) => chars.slice(i, i + 3).join('')))];
  };
  const titles = fc.array(fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀', '\uD800'), maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 20 })), { maxLength: 30 });

  it('take each distinct trigram of a title once, in order, by code point (surrogate pairs too)', function () {
    fc.assert(
      fc.property(titles, (texts) => {
        for (const text of texts) expect(trigramsOf(text)).to.deep.equal(referenceTrigrams(text));
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it('list a record once under each trigram of its title, however often the title repeats it', function () {
    fc.assert(
      fc.property(titles, (texts) => {
        const builder = createPostingsBuilder();
        const expected = new Map<string, number[]>();
        texts.forEach((text, i) => {
          builder.add(100 + i, text);
          for (const gram of referenceTrigrams(text)) expected.set(gram, [...(expected.get(gram) ?? []), 100 + i]);
        });
        const rows = builder.drain();
        expect(new Map(rows.map((row) => [row.trigram, decodeIds(row.first_id, row.ids)]))).to.deep.equal(expected);
        for (const row of rows) expect(row.n).to.equal(expected.get(row.trigram)?.length);
      }),
      { numRuns: 300, seed: 6 },
    );
  });

  it('bound a row as mysql2 formats it, at the widest trigram characters and ids', function () {
    // Astral (4 bytes of UTF-8 in 2 units), CJK (3 bytes in 1), and what mysql2 escapes.
    for (const trigram of ['\u{10FFFF}\u{10FFFF}\u{10FFFF}', '中文字', "'\\\0", 'abc']) {
      const ids = encodeIds(0, [2 ** 53 - 3, 2 ** 53 - 2, 2 ** 53 - 1]);
      const values = mysql.format('(?)', [[trigram, 2 ** 53 - 1, 8192, ids]]);
      expect(postingRowBytes(trigram, ids), trigram).to.be.at.least(Buffer.byteLength(values) + 2);
    }
  });

  it('cut runs at the count and the byte budget, never leaving a run empty', function () {
    const runs = (sizes: number[], most: number, budget: number) => [...runsWithin(sizes, most, budget, (size) => size)];
    expect(runs([4, 4, 4, 4, 4], 3, 100)).to.deep.equal([[4, 4, 4], [4, 4]]);
    expect(runs([4, 4, 4, 4, 4], 10, 8)).to.deep.equal([[4, 4], [4, 4], [4]]);
    expect(runs([20, 1, 20], 10, 8), 'an item over the budget goes alone').to.deep.equal([[20], [1], [20]]);
    expect(runs([], 10, 8)).to.deep.equal([]);
  });

  it('make every INSERT of a full group fit the budget, whatever its titles share', function () {
    // 8,192 records sharing one title's 253 trigrams, with ids far apart: 253 rows of 8,192 large ids.
    const writer = createIndexWriter('mysql');
    let seed = 1;
    const title = Array.from({ length: 255 }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[(seed = (seed * 48271) % 2147483647) % 36]).join('');
    const inserts = writer.add(Array.from({ length: 8192 }, (_, i) => ({ id: 1 + i * 2 ** 40, titleFolded: title })));
    expect(inserts.length, 'statements').to.be.greaterThan(1);
    for (const insert of inserts) expect(Buffer.byteLength((insert as { sql: string }).sql)).to.be.at.most(POSTING_STATEMENT_BYTES + 1024);
  });
});
