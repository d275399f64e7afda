import { expect } from 'chai';
import fc from 'fast-check';
import { containsPattern, foldText, foldUnicode, foldUri } from '../../../../service/src/api/domain/text.js';

describe('search folding', function () {
  it('folds case, accents, ligatures and compatibility forms', function () {
    expect(foldText('Tranquilité')).to.equal('tranquilite');
    expect(foldText('ÉCOLE Ñandú')).to.equal('ecole nandu');
    expect(foldText('Straße Œuvre Æsir Øre Łódź')).to.equal('strasse oeuvre aesir ore lodz');
    expect(foldText('ﬁle №5')).to.equal('file no5');
  });

  it('folds both forms of sigma alike, so a term is found wherever its letters stand', function () {
    expect(foldText('ΚΟΣΜΟΣ').includes(foldText('ΚΟΣ'))).to.equal(true);
    expect(foldText('λόγος').includes(foldText('Σ'))).to.equal(true);
    expect(foldText('λόγος').includes(foldText('σ'))).to.equal(true);
    expect(foldText('ΛΌΓΟΣ')).to.equal(foldText('λόγος'));
    expect(foldUri('https://example.org/ΚΟΣΜΟΣ').includes(foldUri('ΚΟΣ'))).to.equal(true);
  });

  it('keeps Hangul syllables whole: a syllable is not found inside another that starts alike', function () {
    expect(foldText('한국').includes(foldText('하'))).to.equal(false);
    expect(foldText('한국').includes(foldText('한'))).to.equal(true);
    expect(foldText('가각간').includes(foldText('가'))).to.equal(true);
    expect(foldText('각')).to.equal('각');
    // Compatibility jamo typed one by one compose as the syllable they spell.
    expect(foldText('ㅎㅏ')).to.equal(foldText('하'));
  });

  // foldText's shortcuts (ASCII, and Latin-1 with Latin Extended-A by a table) must fold exactly as
  // the full folding does, or stored titles and search terms would fold apart.
  it('folds every pair of Latin characters as the full folding does', function () {
    const mismatches: string[] = [];
    for (let a = 0; a < 0x180; a += 1) {
      for (let b = 0; b < 0x180; b += 1) {
        const text = String.fromCharCode(a, b);
        if (foldText(text) !== foldUnicode(text)) mismatches.push(text);
      }
    }
    expect(mismatches).to.deep.equal([]);
  });

  it('folds any text as the full folding does', function () {
    const latin = fc.string({ unit: fc.integer({ min: 0, max: 0x17f }).map((code) => String.fromCharCode(code)), maxLength: 60 });
    const near = fc.string({ unit: fc.integer({ min: 0, max: 0x3ff }).map((code) => String.fromCharCode(code)), maxLength: 60 });
    fc.assert(fc.property(fc.oneof(latin, near, fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 })), (text) => foldText(text) === foldUnicode(text)), { numRuns: 2000 });
    expect(foldText('Été ŒUVRE İstanbul ſ Ĳssel ŉ')).to.equal(foldUnicode('Été ŒUVRE İstanbul ſ Ĳssel ŉ'));
  });

  it('lower-cases uris without touching anything else', function () {
    expect(foldUri('HTTPS://Example.ORG/Été')).to.equal('https://example.org/été');
  });

  it('escapes LIKE wildcards and the escape character itself', function () {
    expect(containsPattern('100%_a!b\\c')).to.equal('%100!%!_a!!b\\c%');
  });
});
