import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateDeviceImage, generateVehicleImage } from '../../src/domain/device-image.ts';
import { decodePng } from './png-decode.ts';
import type { DecodedPng } from './png-decode.ts';

const FA8 = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';
const ONES = '0x1111111111111111111111111111111111111111';
// Small images keep the property runs quick; the drawing code is the same at every size.
const SMALL = 64;

function pixel(img: DecodedPng, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return [...img.rgba.subarray(i, i + 4)];
}

function isOpaque(img: DecodedPng): boolean {
  for (let i = 3; i < img.rgba.length; i += 4) if (img.rgba[i] !== 255) return false;
  return true;
}

function colours(img: DecodedPng): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < img.rgba.length; i += 4) out.add(img.rgba.subarray(i, i + 3).join(','));
  return out;
}

describe('generateDeviceImage', () => {
  it('is a valid, opaque 512×512 PNG by default', () => {
    const img = decodePng(generateDeviceImage({ seed: FA8 }));
    assert.equal(img.width, 512);
    assert.equal(img.height, 512);
    assert.ok(isOpaque(img));
  });

  it('draws a pattern, not a blank square', () => {
    const img = decodePng(generateDeviceImage({ seed: ONES, size: SMALL }));
    assert.ok(colours(img).size >= 2);
  });

  it('gives the same bytes for the same seed', () => {
    fc.assert(
      fc.property(fc.string(), (seed) => {
        assert.deepEqual(generateDeviceImage({ seed, size: SMALL }), generateDeviceImage({ seed, size: SMALL }));
      }),
      { numRuns: 30 },
    );
  });

  it('gives different images for different seeds', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        assert.notDeepEqual(generateDeviceImage({ seed: a, size: SMALL }), generateDeviceImage({ seed: b, size: SMALL }));
      }),
      { numRuns: 30 },
    );
    assert.notDeepEqual(generateDeviceImage({ seed: FA8 }), generateDeviceImage({ seed: ONES }));
  });

  it('is mirror-symmetric left to right', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(16, 50, SMALL, 99), (seed, size) => {
        const img = decodePng(generateDeviceImage({ seed, size }));
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size / 2; x++) assert.deepEqual(pixel(img, x, y), pixel(img, size - 1 - x, y));
        }
      }),
      { numRuns: 20 },
    );
  });

  it('shares the background between devices with the same label and varies it between labels', () => {
    const corner = (seed: string, label?: string) => pixel(decodePng(generateDeviceImage({ seed, label, size: SMALL })), 0, 0);
    assert.deepEqual(corner(FA8, 'AutoPi'), corner(ONES, 'AutoPi'));
    assert.deepEqual(corner(FA8, 'AutoPi'), corner(FA8, ' autopi '));
    assert.notDeepEqual(corner(FA8, 'AutoPi'), corner(FA8, 'Hashdog'));
  });

  it('honours the requested size', () => {
    const img = decodePng(generateDeviceImage({ seed: FA8, size: 37 }));
    assert.equal(img.width, 37);
    assert.equal(img.height, 37);
  });

  it('rejects sizes that are fractional, tiny or huge', () => {
    for (const size of [15, 64.5, 0, -512, 4097]) {
      assert.throws(() => generateDeviceImage({ seed: FA8, size }), RangeError);
    }
  });
});

describe('generateVehicleImage', () => {
  const car = { make: 'Ford', model: 'F-150', year: 2021, seed: '42' };

  it('is a valid, opaque 512×512 PNG by default', () => {
    const img = decodePng(generateVehicleImage(car));
    assert.equal(img.width, 512);
    assert.equal(img.height, 512);
    assert.ok(isOpaque(img));
  });

  it('gives the same bytes for the same vehicle', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1900, max: 2100 }), fc.string(), (make, model, year, seed) => {
        const input = { make, model, year, seed, size: SMALL };
        assert.deepEqual(generateVehicleImage(input), generateVehicleImage({ ...input }));
      }),
      { numRuns: 30 },
    );
  });

  it('gives different images for different seeds of the same make and model', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        assert.notDeepEqual(
          generateVehicleImage({ ...car, seed: a, size: SMALL }),
          generateVehicleImage({ ...car, seed: b, size: SMALL }),
        );
      }),
      { numRuns: 30 },
    );
  });

  it('changes with the year and with the make', () => {
    assert.notDeepEqual(generateVehicleImage({ ...car, year: 2022 }), generateVehicleImage(car));
    assert.notDeepEqual(generateVehicleImage({ ...car, make: 'Toyota' }), generateVehicleImage(car));
  });

  it('does not look like the device image made from the same seed', () => {
    assert.notDeepEqual(
      decodePng(generateVehicleImage({ ...car, seed: FA8, size: SMALL })).rgba,
      decodePng(generateDeviceImage({ seed: FA8, size: SMALL })).rgba,
    );
  });

  it('rejects an out-of-range size', () => {
    assert.throws(() => generateVehicleImage({ ...car, size: 8 }), RangeError);
  });
});
