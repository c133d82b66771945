// Wallets of synthetic devices (CHAIN.md §5): derived server-side from one HD seed
// (SYNTHETIC_WALLET_MNEMONIC), child i at m/44'/60'/0'/0/i, where i comes from the database
// sequence `synthetic_wallet_index` so that replicas never hand out the same wallet. The wallet
// signs MintSyntheticDeviceSign together with the vehicle owner; it never holds funds.
import { pbkdf2Sync } from 'node:crypto';
import type { Hex } from 'viem';
import { HDKey, hdKeyToAccount, type HDAccount } from 'viem/accounts';
import { hashPayload, type TypedDataPayload } from '../domain/eip712.ts';

/** BIP-32 non-hardened child indexes: 0 … 2^31-1. */
export const MAX_CHILD_INDEX = 2 ** 31 - 1;

export interface SyntheticWallets {
  /** The wallet at child `index` (m/44'/60'/0'/0/index). */
  account(index: number): HDAccount;
  /** The wallet's signature of a MintSyntheticDeviceSign payload (the digest the registry checks). */
  signMint(index: number, payload: TypedDataPayload<'MintSyntheticDeviceSign'>): Promise<Hex>;
}

/** BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic", 2048) — what mnemonicToAccount does. */
function seedOf(mnemonic: string): Uint8Array {
  const words = mnemonic.trim().split(/\s+/).join(' ').normalize('NFKD');
  return pbkdf2Sync(words, 'mnemonic', 2048, 64, 'sha512');
}

/** Derives the master key once (PBKDF2 is deliberately slow); children are cheap after that. */
export function createSyntheticWallets(mnemonic: string): SyntheticWallets {
  const root = HDKey.fromMasterSeed(seedOf(mnemonic));
  const account = (index: number): HDAccount => {
    if (!Number.isSafeInteger(index) || index < 0 || index > MAX_CHILD_INDEX) {
      throw new RangeError(`synthetic wallet index must be in 0..${MAX_CHILD_INDEX}, got ${index}`);
    }
    return hdKeyToAccount(root, { addressIndex: index });
  };
  return {
    account,
    signMint: (index, payload) => account(index).sign({ hash: hashPayload(payload) }),
  };
}
