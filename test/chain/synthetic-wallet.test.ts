// Synthetic device wallets: HD children of SYNTHETIC_WALLET_MNEMONIC, the same addresses any
// BIP-44 wallet derives, and signatures the registry's MintSyntheticDeviceSign check accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recoverAddress } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { createSyntheticWallets, MAX_CHILD_INDEX } from '../../src/chain/synthetic-wallet.ts';
import { DEV_SYNTHETIC_WALLET_MNEMONIC } from '../../src/chain/config.ts';
import { DEV_DEVICE_MNEMONIC } from '../../src/chain/dev-keys.ts';
import { DEFAULT_ANVIL_MNEMONIC } from '../../src/chain/anvil.ts';
import { hashPayload, mintSyntheticDevicePayload } from '../../src/domain/eip712.ts';

describe('synthetic device wallets', () => {
  const wallets = createSyntheticWallets(DEV_SYNTHETIC_WALLET_MNEMONIC);

  it("derives the addresses a BIP-44 wallet derives (m/44'/60'/0'/0/i)", () => {
    for (const i of [0, 1, 2, 17, 123_456]) {
      assert.equal(wallets.account(i).address, mnemonicToAccount(DEV_SYNTHETIC_WALLET_MNEMONIC, { addressIndex: i }).address, `index ${i}`);
    }
  });

  it('gives distinct wallets per index and per mnemonic', () => {
    const a = new Set([1, 2, 3].map((i) => wallets.account(i).address));
    assert.equal(a.size, 3);
    assert.notEqual(createSyntheticWallets(DEV_DEVICE_MNEMONIC).account(1).address, wallets.account(1).address);
    assert.notEqual(DEV_SYNTHETIC_WALLET_MNEMONIC, DEFAULT_ANVIL_MNEMONIC);
    assert.notEqual(DEV_SYNTHETIC_WALLET_MNEMONIC, DEV_DEVICE_MNEMONIC);
  });

  it('tolerates extra whitespace in the mnemonic', () => {
    const spaced = `  ${DEV_SYNTHETIC_WALLET_MNEMONIC.split(' ').join('   ')}\n`;
    assert.equal(createSyntheticWallets(spaced).account(5).address, wallets.account(5).address);
  });

  it('refuses indexes outside the non-hardened range', () => {
    for (const bad of [-1, 1.5, MAX_CHILD_INDEX + 1, Number.NaN]) assert.throws(() => wallets.account(bad), RangeError);
  });

  it('signs the MintSyntheticDeviceSign digest with the child key', async () => {
    const payload = mintSyntheticDevicePayload({ chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }, { integrationNode: 1n, vehicleNode: 42n });
    const sig = await wallets.signMint(9, payload);
    assert.equal(await recoverAddress({ hash: hashPayload(payload), signature: sig }), wallets.account(9).address);
  });
});
