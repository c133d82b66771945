import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { REVERT_SENTENCES, revertSentence, unknownRevertSentence } from '../../src/domain/revert-reasons.ts';

const abiErrors = dimoRegistryAbi.filter((e) => e.type === 'error');

/** Plausible arguments for an ABI error's inputs. */
function sampleArgs(inputs: readonly { type: string }[]): unknown[] {
  return inputs.map((i) => (i.type === 'address' ? '0x00000000000000000000000000000000000000aa' : i.type.startsWith('uint') ? 7n : i.type === 'bytes32' ? `0x${'ab'.repeat(32)}` : 'Serial'));
}

describe('revert reasons', () => {
  it('has a sentence for every custom error of the registry ABI', () => {
    const missing = abiErrors.map((e) => e.name).filter((name) => !(name in REVERT_SENTENCES));
    assert.deepEqual(missing, []);
  });

  it('renders every ABI error as one sentence with its arguments and no placeholders', () => {
    for (const e of abiErrors) {
      const s = revertSentence({ errorName: e.name, args: sampleArgs(e.inputs) });
      assert.match(s, /^[A-Z0-9].*\.$/, `${e.name}: ${s}`);
      assert.doesNotMatch(s, /undefined|\[object|\{\{/, `${e.name}: ${s}`);
      if (e.inputs.some((i) => i.type.startsWith('uint'))) assert.match(s, /\b7\b/, `${e.name} should name the id: ${s}`);
    }
  });

  it('uses the wording of DIMO’s translations for the common cases', () => {
    assert.equal(revertSentence({ errorName: 'DeviceAlreadyClaimed', args: [7n] }), 'Aftermarket device 7 already claimed.');
    assert.equal(revertSentence({ errorName: 'InvalidAdSignature', args: [] }), 'Invalid aftermarket device signature.');
    assert.equal(revertSentence({ errorName: 'VehiclePaired', args: [3n] }), 'Vehicle 3 is already paired.');
  });

  it('names the NFT of InvalidNode and the role of AccessControlUnauthorizedAccount when it knows them', () => {
    const vehicleNft = '0x00000000000000000000000000000000000000Bb';
    const ctx = { nodeNames: { [vehicleNft.toLowerCase()]: 'Vehicle' }, roleNames: { [`0x${'cd'.repeat(32)}`]: 'CLAIM_AD_ROLE' } };
    assert.equal(revertSentence({ errorName: 'InvalidNode', args: [vehicleNft, 12n] }, ctx), 'Vehicle 12 does not exist.');
    assert.equal(revertSentence({ errorName: 'InvalidNode', args: ['0x01', 12n] }, ctx), 'Token 12 of contract 0x01 does not exist.');
    assert.equal(
      revertSentence({ errorName: 'AccessControlUnauthorizedAccount', args: ['0xabc', `0x${'CD'.repeat(32)}`] }, ctx),
      'Account 0xabc lacks the role CLAIM_AD_ROLE.',
    );
  });

  it('falls back to naming an unknown error, Error(string) and Panic', () => {
    assert.equal(revertSentence({ errorName: 'SomethingNew', args: [1n] }), 'Transaction reverted: SomethingNew.');
    assert.equal(revertSentence({ errorName: 'Error', args: ['nope'] }), 'Transaction reverted: nope');
    assert.equal(revertSentence({ errorName: 'Panic', args: [17n] }), 'Transaction reverted: panic (arithmetic overflow or underflow).');
    assert.equal(unknownRevertSentence('0x'), 'Transaction reverted without a reason.');
    assert.equal(unknownRevertSentence('0xdeadbeef'), 'Transaction reverted: 0xdeadbeef');
  });

  it('keeps chain-supplied strings on one bounded line', () => {
    const s = revertSentence({ errorName: 'AttributeNotWhitelisted', args: [`a\nb${'x'.repeat(500)}`] });
    assert.ok(!s.includes('\n'));
    assert.ok(s.length < 200);
  });
});
