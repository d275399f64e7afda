import { expect } from 'chai';
import fc from 'fast-check';
import { createPostingsBuilder, decodeIds, encodeIds } from '../../../../service/src/api/data/postings.js';

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
});
