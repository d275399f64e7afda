import { expect } from 'chai';
import { containsPattern, foldText, foldUri } from '../../../../service/src/api/domain/text.js';

describe('search folding', function () {
  it('folds case, accents, ligatures and compatibility forms', function () {
    expect(foldText('Tranquilité')).to.equal('tranquilite');
    expect(foldText('ÉCOLE Ñandú')).to.equal('ecole nandu');
    expect(foldText('Straße Œuvre Æsir Øre Łódź')).to.equal('strasse oeuvre aesir ore lodz');
    expect(foldText('ﬁle №5')).to.equal('file no5');
  });

  it('lower-cases uris without touching anything else', function () {
    expect(foldUri('HTTPS://Example.ORG/Été')).to.equal('https://example.org/été');
  });

  it('escapes LIKE wildcards and the escape character itself', function () {
    expect(containsPattern('100%_a!b\\c')).to.equal('%100!%!_a!!b\\c%');
  });
});
