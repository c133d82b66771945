import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keccak256, stringToHex } from 'viem';
import { privateKeyToAccount, sign } from 'viem/accounts';
import { parseSignature, recoverDigestSigner } from '../../src/domain/signature.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const key = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const account = privateKeyToAccount(key);
const digest = keccak256(stringToHex('claim device 1'));

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const vByte = (v: number) => v.toString(16).padStart(2, '0');
const word = (n: bigint) => n.toString(16).padStart(64, '0');

describe('parseSignature', () => {
  it('accepts a 65-byte signature with v 27/28 and returns it lower-cased', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    const parsed = parseSignature(sig.toUpperCase().replace('0X', '0x'));
    assert.deepEqual(parsed, { ok: true, bytes: sig, raw: sig });
  });

  it('accepts a signature without the 0x prefix', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    const parsed = parseSignature(sig.slice(2));
    assert.ok(parsed.ok);
    assert.equal(parsed.bytes, sig);
  });

  it('normalises v of 0/1 to 27/28 and the result still recovers to the signer', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    const v = Number.parseInt(sig.slice(130), 16);
    const zeroOne = `${sig.slice(0, 130)}${vByte(v - 27)}`;
    const parsed = parseSignature(zeroOne);
    assert.ok(parsed.ok);
    assert.equal(parsed.bytes, sig);
    assert.equal(parsed.raw, zeroOne);
    assert.equal(await recoverDigestSigner(digest, zeroOne), account.address);
  });

  it('rewrites a high-s signature to its low-s twin, which the registry accepts, same signer', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130), 16);
    const high = `${sig.slice(0, 66)}${word(N - s)}${vByte(v === 27 ? 28 : 27)}`;
    const parsed = parseSignature(high);
    assert.ok(parsed.ok);
    assert.equal(parsed.bytes, sig);
    assert.equal(parsed.raw, high);
    assert.equal(await recoverDigestSigner(digest, high), account.address);
  });

  it('refuses wrong lengths, saying how long it was', () => {
    assert.deepEqual(parseSignature(`0x${'ab'.repeat(64)}`), { ok: false, reason: 'must be 65 bytes long, got 64' });
    assert.deepEqual(parseSignature(`0x${'ab'.repeat(66)}`), { ok: false, reason: 'must be 65 bytes long, got 66' });
    assert.deepEqual(parseSignature(''), { ok: false, reason: 'must be 65 bytes long, got 0' });
    assert.deepEqual(parseSignature('0x'), { ok: false, reason: 'must be 65 bytes long, got 0' });
  });

  it('refuses malformed hex and non-strings', () => {
    assert.deepEqual(parseSignature(`0x${'zz'.repeat(65)}`), { ok: false, reason: 'is not valid hex' });
    assert.deepEqual(parseSignature(`0x${'a'.repeat(129)}`), { ok: false, reason: 'is not valid hex' });
    assert.deepEqual(parseSignature(` 0x${'ab'.repeat(65)}`), { ok: false, reason: 'is not valid hex' });
    assert.deepEqual(parseSignature(`0x0x${'ab'.repeat(64)}`), { ok: false, reason: 'is not valid hex' });
    for (const bad of [null, undefined, 42, {}, ['0x']]) assert.deepEqual(parseSignature(bad), { ok: false, reason: 'must be a hex string' });
  });

  it('refuses recovery bytes other than 0, 1, 27 and 28', () => {
    for (const v of [2, 26, 29, 37, 255]) {
      const r = parseSignature(`0x${'11'.repeat(64)}${vByte(v)}`);
      assert.deepEqual(r, { ok: false, reason: `has recovery byte v=${v}; expected 0, 1, 27 or 28` });
    }
  });

  it('property: any 65 bytes with a valid v parse to 65 bytes with v 27/28 and low s', () => {
    fc.assert(
      fc.property(hex(64), fc.constantFrom(0, 1, 27, 28), fc.boolean(), (rs, v, prefix) => {
        const parsed = parseSignature(`${prefix ? '0x' : ''}${rs}${vByte(v)}`);
        assert.ok(parsed.ok);
        assert.match(parsed.bytes, /^0x[0-9a-f]{130}$/);
        assert.ok(['1b', '1c'].includes(parsed.bytes.slice(130)));
        const s = BigInt(`0x${parsed.bytes.slice(66, 130)}`);
        assert.ok(s <= N >> 1n || s >= N);
        assert.equal(parsed.bytes.slice(0, 66), `0x${rs.slice(0, 64)}`);
        // Canonical form is a fixed point.
        assert.deepEqual(parseSignature(parsed.bytes), { ok: true, bytes: parsed.bytes, raw: parsed.bytes });
      }),
    );
  });

  it('property: anything that is not 130 hex digits is refused', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        fc.pre(!/^(0[xX])?[0-9a-fA-F]{130}$/.test(s));
        assert.equal(parseSignature(s).ok, false);
      }),
    );
  });
});

describe('recoverDigestSigner', () => {
  it('recovers the EOA that signed the digest', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    assert.equal(await recoverDigestSigner(digest, sig), account.address);
  });

  it('recovers someone else for another digest (the caller compares)', async () => {
    const sig = await sign({ hash: digest, privateKey: key, to: 'hex' });
    const other = await recoverDigestSigner(keccak256(stringToHex('pair device 1')), sig);
    assert.notEqual(other, account.address);
  });

  it('answers null, not an exception, for bytes that are no signature', async () => {
    assert.equal(await recoverDigestSigner(digest, `0x${'00'.repeat(64)}1b`), null);
    assert.equal(await recoverDigestSigner(digest, `0x${'ff'.repeat(64)}1b`), null);
    assert.equal(await recoverDigestSigner(digest, '0x1234'), null);
    assert.equal(await recoverDigestSigner(digest, 'not hex'), null);
  });
});
