import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { declaredTypeAgrees, SNIFF_BYTES, sniffFileType } from '../../../src/domain/files/sniff.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sniffFileType', () => {
  it('recognises PDF, PNG and JPEG from their first bytes', () => {
    assert.deepEqual(sniffFileType(ascii('%PDF-1.7\n%âãÏÓ')), { contentType: 'application/pdf', ext: 'pdf' });
    assert.deepEqual(sniffFileType(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13)), {
      contentType: 'image/png',
      ext: 'png',
    });
    assert.deepEqual(sniffFileType(bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46)), { contentType: 'image/jpeg', ext: 'jpg' });
    assert.deepEqual(sniffFileType(bytes(0xff, 0xd8, 0xff, 0xe1)), { contentType: 'image/jpeg', ext: 'jpg' }); // EXIF
  });

  it('rejects executables, other formats and text', () => {
    const rejected: Array<[string, Uint8Array]> = [
      ['Windows executable (MZ)', bytes(0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0)],
      ['ELF', bytes(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0)],
      ['ZIP / docx', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0)],
      ['GIF', ascii('GIF89a\x01\x00')],
      ['HTML', ascii('<!doctype html>')],
      ['empty', bytes()],
      ['PDF header not at offset 0', ascii(' %PDF-1.7')],
      ['PDF header without the dash', ascii('%PDF1.7xx')],
      ['PNG with a damaged signature', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x00)],
      ['truncated PNG signature', bytes(0x89, 0x50, 0x4e, 0x47)],
      ['truncated JPEG signature', bytes(0xff, 0xd8)],
    ];
    for (const [what, head] of rejected) assert.equal(sniffFileType(head), null, what);
  });

  it('needs no more than SNIFF_BYTES to decide', () => {
    assert.equal(SNIFF_BYTES, 8);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: SNIFF_BYTES, maxLength: 64 }), (head) => {
        assert.deepEqual(sniffFileType(head), sniffFileType(head.subarray(0, SNIFF_BYTES)));
      }),
    );
  });
});

describe('declaredTypeAgrees', () => {
  it('accepts the same type, ignoring case and parameters', () => {
    assert.equal(declaredTypeAgrees('application/pdf', 'application/pdf'), true);
    assert.equal(declaredTypeAgrees('Application/PDF; name="x.pdf"', 'application/pdf'), true);
    assert.equal(declaredTypeAgrees(' image/png ', 'image/png'), true);
  });

  it('accepts common aliases', () => {
    assert.equal(declaredTypeAgrees('image/jpg', 'image/jpeg'), true);
    assert.equal(declaredTypeAgrees('image/pjpeg', 'image/jpeg'), true);
    assert.equal(declaredTypeAgrees('application/x-pdf', 'application/pdf'), true);
  });

  it('treats a missing or generic declaration as no claim', () => {
    assert.equal(declaredTypeAgrees(undefined, 'image/png'), true);
    assert.equal(declaredTypeAgrees('', 'image/png'), true);
    assert.equal(declaredTypeAgrees('application/octet-stream', 'image/jpeg'), true);
  });

  it('rejects a declaration naming another format', () => {
    assert.equal(declaredTypeAgrees('image/png', 'application/pdf'), false);
    assert.equal(declaredTypeAgrees('image/jpeg', 'image/png'), false);
    assert.equal(declaredTypeAgrees('text/html', 'application/pdf'), false);
    assert.equal(declaredTypeAgrees('application/x-msdownload', 'image/jpeg'), false);
  });
});
