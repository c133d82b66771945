import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodePng, PNG_SIGNATURE } from '../../src/domain/png.ts';
import { crc32Reference, decodePng, SIGNATURE } from './png-decode.ts';

const image = fc
  .record({ width: fc.integer({ min: 1, max: 12 }), height: fc.integer({ min: 1, max: 12 }) })
  .chain(({ width, height }) =>
    fc.record({
      width: fc.constant(width),
      height: fc.constant(height),
      rgba: fc.uint8Array({ minLength: width * height * 4, maxLength: width * height * 4 }),
    }),
  );

// Images built from a few distinct rows, so consecutive rows often repeat (the Up-filter path).
const blockyImage = fc
  .record({ width: fc.integer({ min: 1, max: 12 }), height: fc.integer({ min: 1, max: 16 }) })
  .chain(({ width, height }) =>
    fc.record({
      width: fc.constant(width),
      height: fc.constant(height),
      rows: fc.array(fc.uint8Array({ minLength: width * 4, maxLength: width * 4 }), { minLength: 1, maxLength: 3 }),
      picks: fc.array(fc.nat(), { minLength: height, maxLength: height }),
    }),
  )
  .map(({ width, height, rows, picks }) => {
    const rgba = new Uint8Array(width * height * 4);
    picks.forEach((p, y) => rgba.set(rows[p % rows.length] ?? [], y * width * 4));
    return { width, height, rgba };
  });

describe('encodePng', () => {
  it('round-trips random pixels through an independent decoder', () => {
    fc.assert(
      fc.property(image, (img) => {
        const out = decodePng(encodePng(img));
        assert.equal(out.width, img.width);
        assert.equal(out.height, img.height);
        assert.deepEqual(out.rgba, img.rgba);
      }),
    );
  });

  it('round-trips images whose rows repeat', () => {
    fc.assert(
      fc.property(blockyImage, (img) => {
        assert.deepEqual(decodePng(encodePng(img)).rgba, img.rgba);
      }),
    );
  });

  it('sends a row equal to the one above with the Up filter and other rows unfiltered', () => {
    const a = [1, 2, 3, 255];
    const b = [9, 8, 7, 255];
    const rgba = Uint8Array.from([...a, ...b, ...a, ...b, ...b, ...b, ...b, ...b, ...a, ...b]);
    const out = decodePng(encodePng({ width: 2, height: 5, rgba }));
    assert.deepEqual(out.filters, [0, 2, 0, 2, 0]);
    assert.deepEqual(out.rgba, rgba);
  });

  it('starts with the PNG signature and has IHDR, IDAT, IEND in order', () => {
    const png = encodePng({ width: 3, height: 2, rgba: new Uint8Array(24) });
    assert.deepEqual([...png.subarray(0, 8)], SIGNATURE);
    assert.deepEqual([...PNG_SIGNATURE], SIGNATURE);
    assert.deepEqual(decodePng(png).chunkTypes, ['IHDR', 'IDAT', 'IEND']);
  });

  it('declares the dimensions, 8-bit RGBA and no interlace in IHDR', () => {
    const png = encodePng({ width: 300, height: 7, rgba: new Uint8Array(300 * 7 * 4) });
    assert.equal(png.readUInt32BE(8), 13);
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    assert.equal(png.readUInt32BE(16), 300);
    assert.equal(png.readUInt32BE(20), 7);
    assert.deepEqual([...png.subarray(24, 29)], [8, 6, 0, 0, 0]);
  });

  it('writes chunk CRCs that match a table-driven CRC-32', () => {
    // The reference implementation itself against the standard check value.
    assert.equal(crc32Reference(Buffer.from('123456789')), 0xcbf43926);
    const png = encodePng({ width: 2, height: 2, rgba: Uint8Array.from({ length: 16 }, (_, i) => i * 15) });
    assert.doesNotThrow(() => decodePng(png));
    const ihdrCrc = png.readUInt32BE(29);
    assert.equal(ihdrCrc, crc32Reference(png.subarray(12, 29)));
  });

  it('ends with the fixed IEND chunk', () => {
    const png = encodePng({ width: 1, height: 1, rgba: new Uint8Array(4) });
    assert.equal(png.subarray(-12).toString('hex'), '0000000049454e44ae426082');
  });

  it('reads only the pixels of a view into a larger buffer', () => {
    const backing = new Uint8Array(64).fill(0xee);
    const view = backing.subarray(8, 24); // a 2×2 image in the middle
    view.set(Array.from({ length: 16 }, (_, i) => i));
    assert.deepEqual(decodePng(encodePng({ width: 2, height: 2, rgba: view })).rgba, Uint8Array.from(view));
  });

  it('rejects a pixel buffer of the wrong length', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, rgba: new Uint8Array(15) }), RangeError);
  });

  it('rejects empty, fractional and oversized dimensions', () => {
    for (const [width, height] of [[0, 1], [1, 0], [1.5, 2], [-1, 1], [20000, 1]] as const) {
      assert.throws(() => encodePng({ width, height, rgba: new Uint8Array(0) }), RangeError);
    }
  });
});
