import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeDocumentCursor,
  DOCUMENT_TYPES,
  downloadFilename,
  encodeDocumentCursor,
  parseDocumentName,
  parseDocumentType,
} from '../../src/domain/documents.ts';

describe('parseDocumentName', () => {
  it('trims and keeps any printable Unicode', () => {
    assert.deepEqual(parseDocumentName('  Insurance 2026 – café  '), { ok: true, value: 'Insurance 2026 – café' });
    assert.deepEqual(parseDocumentName('../../etc/passwd'), { ok: true, value: '../../etc/passwd' });
  });

  it('counts characters, not bytes or UTF-16 units, against the 255 limit', () => {
    assert.equal(parseDocumentName('🚗'.repeat(255)).ok, true);
    assert.equal(parseDocumentName('🚗'.repeat(256)).ok, false);
    assert.equal(parseDocumentName('a'.repeat(255)).ok, true);
    assert.match((parseDocumentName('a'.repeat(256)) as { message: string }).message, /at most 255/);
  });

  it('refuses empty names and names with control or bidi-override characters', () => {
    for (const bad of ['', '   ', 'a\u0000b', 'tab\there', 'line\nbreak', 'del\u007f', 'c1\u0085', 'cod\u202Eexe.pdf', 'iso\u2066late']) {
      assert.equal(parseDocumentName(bad).ok, false, JSON.stringify(bad));
    }
  });

  it('accepts every name of printable characters within the limit', () => {
    const printable = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }).filter((s) => s.trim() !== '' && !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s));
    fc.assert(fc.property(printable, (s) => parseDocumentName(s).ok === ([...s.trim()].length <= 255)));
  });
});

describe('parseDocumentType', () => {
  it('accepts exactly the seven document types (case matters, blanks around are trimmed)', () => {
    for (const t of DOCUMENT_TYPES) assert.deepEqual(parseDocumentType(t), { ok: true, value: t });
    assert.deepEqual(parseDocumentType(' Other '), { ok: true, value: 'Other' });
    for (const bad of ['', 'other', 'Passport', 'VehicleTitle,Other', '../Other']) {
      assert.equal(parseDocumentType(bad).ok, false, bad);
    }
  });
});

describe('downloadFilename', () => {
  it('appends the extension unless the name already ends with it', () => {
    assert.equal(downloadFilename('Insurance', 'pdf'), 'Insurance.pdf');
    assert.equal(downloadFilename('scan.pdf', 'pdf'), 'scan.pdf');
    assert.equal(downloadFilename('scan.PDF', 'pdf'), 'scan.PDF');
    assert.equal(downloadFilename('photo.jpeg', 'jpg'), 'photo.jpeg');
    assert.equal(downloadFilename('photo.jpg', 'jpg'), 'photo.jpg');
    assert.equal(downloadFilename('photo.png', 'jpg'), 'photo.png.jpg');
    assert.equal(downloadFilename('.pdf', 'pdf'), '.pdf.pdf');
  });
});

describe('document cursors', () => {
  it('round-trip a position and refuse anything else', () => {
    const c = { createdAtMs: 1_760_000_000_123, id: '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ' };
    assert.deepEqual(decodeDocumentCursor(encodeDocumentCursor(c)), c);
    for (const bad of ['', 'nonsense', '123', '-2ZZZZZZZZZZZZZZZZZZZZZZZZZZ', '1-short', '1234567890123456-2ZZZZZZZZZZZZZZZZZZZZZZZZZZ']) {
      assert.equal(decodeDocumentCursor(bad), null, bad);
    }
  });
});
