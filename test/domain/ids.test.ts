import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import KSUID from 'ksuid';
import { createMonotonicKsuids, isKsuid, MAX_KSUID, MAX_UINT256, newKsuid, parseTokenId } from '../../src/domain/ids.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('isKsuid', () => {
  it('accepts KSUIDs made by the ksuid package, including the smallest and largest', () => {
    assert.equal(isKsuid('0ujtsYcgvSTl8PAuAdqWYSMnLOv'), true);
    assert.equal(isKsuid('000000000000000000000000000'), true);
    assert.equal(isKsuid(MAX_KSUID), true);
    assert.equal(MAX_KSUID, new KSUID(Buffer.alloc(20, 0xff)).string);
  });

  it('refuses 27 base62 characters whose value exceeds 160 bits', () => {
    assert.equal(isKsuid('aWgEPTl1tmebfsQzFP4bxwgy80W'), false);
    assert.equal(isKsuid('zzzzzzzzzzzzzzzzzzzzzzzzzzz'), false);
    assert.equal(isKsuid('b00000000000000000000000000'), false);
  });

  it('refuses wrong lengths, other alphabets and non-strings', () => {
    for (const bad of ['', '0ujtsYcgvSTl8PAuAdqWYSMnLO', '0ujtsYcgvSTl8PAuAdqWYSMnLOv0', '0ujtsYcgvSTl8PAuAdqWYSMnLO-', '0ujtsYcgvSTl8PAuAdqWYSMnLO ', 27, null]) {
      assert.equal(isKsuid(bad), false, String(bad));
    }
  });

  it('property: agrees with the ksuid package on every 27-character base62 string', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...BASE62), { minLength: 27, maxLength: 27 }).map((a) => a.join('')), (s) => {
        let packageAccepts: boolean;
        try {
          packageAccepts = KSUID.parse(s).string === s;
        } catch {
          packageAccepts = false;
        }
        assert.equal(isKsuid(s), packageAccepts);
      }),
    );
  });

  it('property: every 20-byte value encodes to a valid KSUID', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (b) => {
        assert.equal(isKsuid(new KSUID(Buffer.from(b)).string), true);
      }),
    );
  });
});

describe('newKsuid', () => {
  it('makes distinct valid KSUIDs carrying the given time', () => {
    const at = new Date('2024-05-31T12:00:00Z');
    const a = newKsuid(at);
    const b = newKsuid(at);
    assert.ok(isKsuid(a) && isKsuid(b));
    assert.notEqual(a, b);
    assert.equal(KSUID.parse(a).date.toISOString(), at.toISOString());
  });

  it('sorts later ids after earlier ones', () => {
    assert.ok(newKsuid(new Date('2024-01-01T00:00:00Z')) < newKsuid(new Date('2024-01-01T00:00:01Z')));
  });
});

describe('parseTokenId', () => {
  it('reads plain decimal digits exactly, beyond the range of a JS number', () => {
    assert.equal(parseTokenId('0'), 0n);
    assert.equal(parseTokenId('42'), 42n);
    assert.equal(parseTokenId('007'), 7n);
    assert.equal(parseTokenId('9007199254740993'), 9007199254740993n);
    assert.equal(parseTokenId(MAX_UINT256.toString()), MAX_UINT256);
  });

  it('refuses signs, hex, spaces, exponents, decimals and empty input', () => {
    for (const bad of ['', '-1', '+1', '0x1', '1e3', '1.0', ' 1', '1 ', '١', '1_000', 'abc']) {
      assert.equal(parseTokenId(bad), null, bad);
    }
    assert.equal(parseTokenId(1), null);
  });

  it('refuses values above 2^256 - 1 and 79 digits', () => {
    assert.equal(parseTokenId((MAX_UINT256 + 1n).toString()), null);
    assert.equal(parseTokenId('9'.repeat(78)), null);
    assert.equal(parseTokenId(`0${'1'.repeat(78)}`), null);
  });

  it('property: round-trips every uint256 through its decimal text', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX_UINT256 }), (n) => assert.equal(parseTokenId(n.toString()), n)));
  });

  it('property: accepts exactly the strings of 1-78 digits whose value fits', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 90 }), (s) => {
        const expected = /^[0-9]{1,78}$/.test(s) && BigInt(s) <= MAX_UINT256 ? BigInt(s) : null;
        assert.equal(parseTokenId(s), expected);
      }),
    );
  });
});

describe('createMonotonicKsuids', () => {
  it('property: every id is a KSUID greater than the ones before it, even within one second or when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1500, max: 1500 }), { minLength: 1, maxLength: 50 }), (steps) => {
        const next = createMonotonicKsuids();
        let t = Date.UTC(2026, 10, 26);
        let previous = '';
        for (const dt of steps) {
          t += dt;
          const id = next(new Date(t));
          assert.ok(isKsuid(id));
          assert.ok(id > previous, `${id} after ${previous}`);
          previous = id;
        }
      }),
    );
  });
});

describe('createMonotonicKsuids, counting up', () => {
  it('property: within one second each id is the previous KSUID plus one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), (n) => {
        const next = createMonotonicKsuids();
        const at = new Date(Date.UTC(2026, 10, 26, 12));
        let previous = KSUID.parse(next(at));
        for (let i = 0; i < n; i++) {
          const id = KSUID.parse(next(at));
          assert.equal(id.date.getTime(), at.getTime());
          assert.equal(BigInt(`0x${id.payload.toString('hex')}`), BigInt(`0x${previous.payload.toString('hex')}`) + 1n);
          previous = id;
        }
      }),
      { numRuns: 30 },
    );
  });
});
