import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { contentRange, parseRange, unsatisfiedContentRange } from '../../../src/domain/files/range.ts';

describe('parseRange', () => {
  it('means the whole body when there is no Range header', () => {
    assert.equal(parseRange(undefined, 100), 'full');
  });

  it('reads a closed, an open-ended and a suffix range', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=500-', 1000), { start: 500, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=7-7', 1000), { start: 7, end: 7 });
  });

  it('clamps a range running past the end, and a suffix longer than the body', () => {
    assert.deepEqual(parseRange('bytes=900-5000', 1000), { start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { start: 0, end: 999 });
    assert.deepEqual(parseRange(`bytes=0-${'9'.repeat(400)}`, 1000), { start: 0, end: 999 });
  });

  it('accepts the unit in any case', () => {
    assert.deepEqual(parseRange('Bytes=1-2', 10), { start: 1, end: 2 });
  });

  it('is unsatisfiable when the range starts at or past the end', () => {
    assert.equal(parseRange('bytes=1000-', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=1000-2000', 1000), 'unsatisfiable');
    assert.equal(parseRange(`bytes=${'9'.repeat(400)}-`, 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 1000), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-0', 0), 'unsatisfiable');
  });

  it('ignores multi-range, other units and malformed values', () => {
    for (const header of [
      'bytes=0-1,5-6',
      'bytes=0-1, 5-6',
      'items=0-1',
      'bytes=',
      'bytes=-',
      'bytes=a-b',
      'bytes=5-1',
      'bytes=+1-2',
      'bytes=1.5-2',
      'bytes 0-1',
      '',
      'bytes=0x10-20',
    ]) {
      assert.equal(parseRange(header, 1000), 'ignore', header);
    }
  });

  it('sends an empty body whole for a suffix range', () => {
    assert.equal(parseRange('bytes=-5', 0), 'ignore');
  });

  it('never throws and only ever returns slices inside the body', () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), fc.nat(10_000), (header, size) => {
        const r = parseRange(header, size);
        if (typeof r === 'object') {
          assert.ok(Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end));
          assert.ok(r.start >= 0 && r.start <= r.end && r.end < size);
        }
      }),
    );
  });

  it('returns the requested slice for any well-formed range inside the body', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e12 }).chain((size) =>
        fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(2e12))), ([size, start, len]) => {
        assert.deepEqual(parseRange(`bytes=${start}-${start + len}`, size), {
          start,
          end: Math.min(start + len, size - 1),
        });
        assert.deepEqual(parseRange(`bytes=${start}-`, size), { start, end: size - 1 });
      }),
    );
  });

  it('returns the last n bytes for any suffix range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 2e9 }), (size, n) => {
        assert.deepEqual(parseRange(`bytes=-${n}`, size), { start: Math.max(0, size - n), end: size - 1 });
      }),
    );
  });
});

describe('Content-Range values', () => {
  it('formats a satisfied and an unsatisfied range', () => {
    assert.equal(contentRange({ start: 0, end: 99 }, 1000), 'bytes 0-99/1000');
    assert.equal(unsatisfiedContentRange(1000), 'bytes */1000');
  });
});
