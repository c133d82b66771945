import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { contentDisposition } from '../../../src/domain/files/content-disposition.ts';

// attachment; filename="<quoted-string without escapes>"; filename*=UTF-8''<attr-char / pct-encoded>
const SHAPE = /^attachment; filename="([\x20\x21\x23-\x5b\x5d-\x7e]*)"; filename\*=UTF-8''((?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*)$/;

function parse(header: string): { fallback: string; name: string } {
  const m = SHAPE.exec(header);
  assert.ok(m, `malformed header: ${header}`);
  return { fallback: m[1]!, name: decodeURIComponent(m[2]!) };
}

// Any UTF-16 code units, including lone surrogates and control characters.
const anyUtf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const wellFormed = fc.string({ unit: 'grapheme' });

describe('contentDisposition', () => {
  it('keeps a plain ASCII name as is in both parameters', () => {
    assert.equal(
      contentDisposition('registration-2024.pdf'),
      "attachment; filename=\"registration-2024.pdf\"; filename*=UTF-8''registration-2024.pdf",
    );
  });

  it('encodes non-ASCII names in filename* and folds accents in the fallback', () => {
    const header = contentDisposition('Führerschein Résumé 🚗.pdf');
    const { fallback, name } = parse(header);
    assert.equal(name, 'Führerschein Résumé 🚗.pdf');
    assert.equal(fallback, 'Fuhrerschein Resume _.pdf');
    assert.match(header, /filename\*=UTF-8''F%C3%BChrerschein%20R%C3%A9sum%C3%A9%20%F0%9F%9A%97\.pdf$/);
  });

  it('neutralises quotes, backslashes, slashes and control characters', () => {
    const { fallback, name } = parse(contentDisposition('a"b\\c/d%e\r\nf\u0000.pdf'));
    assert.equal(fallback, 'a_b_c_d_e__f_.pdf');
    assert.equal(name, 'a"b\\c/d%e\r\nf\u0000.pdf');
  });

  it("encodes the characters RFC 8187 excludes but encodeURIComponent keeps: ' ( ) *", () => {
    assert.match(contentDisposition("it's (1)*.pdf"), /filename\*=UTF-8''it%27s%20%281%29%2A\.pdf$/);
  });

  it('falls back to "download" for an empty or unrepresentable name', () => {
    assert.equal(contentDisposition(''), "attachment; filename=\"download\"; filename*=UTF-8''download");
    assert.equal(parse(contentDisposition('車検証')).fallback, '___');
    assert.equal(parse(contentDisposition('   ')).fallback, 'download');
  });

  it('never throws and always yields a well-formed, visible-ASCII header', () => {
    fc.assert(
      fc.property(anyUtf16, (name) => {
        const header = contentDisposition(name);
        assert.match(header, /^[\x20-\x7e]*$/);
        parse(header);
      }),
    );
  });

  it('decodes back to the original name', () => {
    fc.assert(
      fc.property(wellFormed.filter((s) => s !== ''), (name) => {
        assert.equal(parse(contentDisposition(name)).name, name);
      }),
    );
  });

  it('replaces lone surrogates rather than failing', () => {
    assert.equal(parse(contentDisposition('a\uD800b.pdf')).name, 'a\uFFFDb.pdf');
  });
});
