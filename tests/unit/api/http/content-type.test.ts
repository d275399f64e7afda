import { expect } from 'chai';
import { parseContentType } from '../../../../service/src/api/http/body-media.js';

/** Content-Type as RFC 9110 §8.3 writes it: how the bulk endpoint reads the media type and charset. */
describe('reading a Content-Type header', function () {
  it('reads the media type in lower case and every charset, unquoted and unescaped', function () {
    expect(parseContentType('application/json')).to.deep.equal({ type: 'application/json', charsets: [] });
    expect(parseContentType('Application/JSON ; Charset="UTF-8"')).to.deep.equal({ type: 'application/json', charsets: ['utf-8'] });
    expect(parseContentType('application/x-ndjson;charset=utf-8; charset="lat\\in1"')).to.deep.equal({ type: 'application/x-ndjson', charsets: ['utf-8', 'latin1'] });
    expect(parseContentType('application/json; q="a;b"; charset=iso-8859-1')).to.deep.equal({ type: 'application/json', charsets: ['iso-8859-1'] });
  });

  it('allows the empty parameters RFC 9110 allows', function () {
    expect(parseContentType('application/json; charset=iso-8859-1;')).to.deep.equal({ type: 'application/json', charsets: ['iso-8859-1'] });
    expect(parseContentType('application/json;;charset=utf-8 ;')).to.deep.equal({ type: 'application/json', charsets: ['utf-8'] });
  });

  it('reads nothing from a header that is not a media type', function () {
    for (const header of ['', 'json', 'application/', 'application/json; charset', 'application/json; charset=latin1,', 'application/json, text/plain', 'application/json; charset="utf-8', 'application /json']) {
      expect(parseContentType(header), header).to.equal(null);
    }
  });
});
