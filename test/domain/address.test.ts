import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { getAddress, isAddress } from 'viem';
import { parseAddress, sameAddress, toChecksumAddress } from '../../src/domain/address.ts';

const checksummed = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';
const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
// Randomly upper-cases each hex letter, so that most inputs carry a wrong checksum.
const anyCase = hex40.chain((h) => fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }).map((up) => [...h].map((c, i) => (up[i] ? c.toUpperCase() : c)).join('')));

describe('parseAddress', () => {
  it('returns the EIP-55 form for lower, upper and checksummed input', () => {
    assert.equal(parseAddress(checksummed), checksummed);
    assert.equal(parseAddress(checksummed.toLowerCase()), checksummed);
    assert.equal(parseAddress(`0x${checksummed.slice(2).toUpperCase()}`), checksummed);
  });

  it('accepts input without 0x', () => {
    assert.equal(parseAddress(checksummed.slice(2).toLowerCase()), checksummed);
  });

  it('accepts mixed case with a wrong checksum (any case is accepted)', () => {
    assert.equal(parseAddress('0xfA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC'), checksummed);
  });

  it('refuses wrong lengths, non-hex, surrounding spaces and non-strings', () => {
    for (const bad of ['', '0x', '0x1234', `${checksummed}00`, checksummed.slice(0, 41), '0xZZ8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC', ` ${checksummed}`, `${checksummed}\n`, `0x0x${'1'.repeat(38)}`, 'vitalik.eth', null, 1]) {
      assert.equal(parseAddress(bad), null, String(bad));
    }
  });

  it('property: any-case 40 hex digits, with or without 0x, parse to the checksummed address', () => {
    fc.assert(
      fc.property(anyCase, fc.boolean(), (h, prefix) => {
        const parsed = parseAddress(prefix ? `0x${h}` : h);
        assert.equal(parsed, getAddress(`0x${h.toLowerCase()}`));
        assert.ok(parsed !== null && isAddress(parsed, { strict: true }));
        assert.equal(parseAddress(parsed), parsed);
      }),
    );
  });

  it('property: strings that are not 40 hex digits are refused', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        fc.pre(!/^(0[xX])?[0-9a-fA-F]{40}$/.test(s));
        assert.equal(parseAddress(s), null);
      }),
    );
  });
});

describe('sameAddress', () => {
  it('compares case-insensitively and with or without 0x', () => {
    assert.equal(sameAddress(checksummed, checksummed.toLowerCase().slice(2)), true);
    assert.equal(sameAddress(checksummed, '0x1111111111111111111111111111111111111111'), false);
  });

  it('never calls malformed input equal, even to itself', () => {
    assert.equal(sameAddress('nope', 'nope'), false);
    assert.equal(sameAddress(null, null), false);
  });
});

describe('toChecksumAddress', () => {
  it('checksums trusted input and throws on malformed input', () => {
    assert.equal(toChecksumAddress(checksummed.toLowerCase()), checksummed);
    assert.throws(() => toChecksumAddress('0x12'), TypeError);
  });
});
