import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { english } from 'viem/accounts';
import { deviceName } from '../../src/domain/device-name.ts';

const words = new Set(english);
const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);

describe('deviceName', () => {
  it('matches the published vectors', () => {
    assert.equal(deviceName('0x1111111111111111111111111111111111111111'), 'baby mass dust');
    assert.equal(deviceName('0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC'), 'whisper garage brother');
    assert.equal(deviceName('0x0000000000000000000000000000000000000000'), 'abandon abandon abandon');
  });

  it('uses the last word of the list when all 33 bits are set', () => {
    assert.equal(deviceName(`0xffffffff80${'0'.repeat(30)}`), 'zoo zoo zoo');
  });

  it('depends only on the first 33 bits, whatever the case of the input', () => {
    const a = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';
    assert.equal(deviceName(a.toLowerCase()), deviceName(a));
    // Same 32 bits and same top bit of the ninth nibble ('c' and '8'), different tail.
    assert.equal(deviceName(`${a.slice(0, 10)}8${'0'.repeat(31)}`), 'whisper garage brother');
    assert.equal(deviceName(`${a.slice(0, 10)}f${'f'.repeat(31)}`), 'whisper garage brother');
    // Bit 33 (the top bit of the fifth byte) is still part of the name.
    assert.notEqual(deviceName(`0x00000000${'8'}${'0'.repeat(31)}`), deviceName(`0x${'0'.repeat(40)}`));
  });

  it('throws on a malformed address', () => {
    assert.throws(() => deviceName('0x1234'));
  });

  it('property: always three words from the BIP-39 English list', () => {
    fc.assert(
      fc.property(hex40, (address) => {
        const parts = deviceName(address).split(' ');
        assert.equal(parts.length, 3);
        for (const w of parts) assert.ok(words.has(w), w);
      }),
    );
  });

  it('property: the words give back the first 33 bits of the address', () => {
    fc.assert(
      fc.property(hex40, (address) => {
        const indexes = deviceName(address).split(' ').map((w) => english.indexOf(w));
        const bits = indexes.reduce((acc, i) => (acc << 11n) | BigInt(i), 0n);
        assert.equal(bits, BigInt(`0x${address.slice(2, 12)}`) >> 7n);
      }),
    );
  });
});
