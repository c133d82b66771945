// Keys of demo aftermarket devices, for development only. Real devices hold their key in the
// dongle and the server never sees it; here a dev command stands in for the dongle so a newcomer
// can run claim → pair → unpair from a terminal (CHAIN.md §2).
//
// A device's key is a pure function of its serial: keccak256(root ‖ utf8(serial)), where root is
// the private key at m/44'/60'/0'/0/0 of DEV_DEVICE_MNEMONIC. So `dev sign --serial X` finds the
// key of any device minted with `--dev-key`, without a stored mapping. The mnemonic is public:
// anyone can derive these keys, which is the point for demos and exactly why production must
// never mint devices this way.
import { concat, keccak256, toBytes, type Hex } from 'viem';
import { mnemonicToAccount, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { normaliseSerial } from '../domain/serial.ts';

/** BIP-39's all-"abandon" test vector: well known, and distinct from anvil's dev mnemonic. */
export const DEV_DEVICE_MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// In their own module (no viem) so the CLI can describe `seed` without loading the chain code.
export { DEMO_DEVICES } from './demo-devices.ts';

export interface DevKeyDeriver {
  /** The dev key for `serial` (normalised first, as the API normalises serials). */
  keyFor(serial: string): Hex;
  accountFor(serial: string): PrivateKeyAccount;
}

export function createDevKeyDeriver(mnemonic: string = DEV_DEVICE_MNEMONIC): DevKeyDeriver {
  const root = mnemonicToAccount(mnemonic).getHdKey().privateKey;
  if (!root) throw new Error('dev keys: the mnemonic yields no private key');
  const keyFor = (serial: string): Hex => {
    const s = normaliseSerial(serial);
    if (s === null) throw new Error(`dev keys: "${serial}" is not a valid serial`);
    let key = keccak256(concat([root, toBytes(s)]));
    // Out of the curve's range with probability ~2^-128; rehash rather than fail.
    while (BigInt(key) === 0n || BigInt(key) >= SECP256K1_N) key = keccak256(key);
    return key;
  };
  return { keyFor, accountFor: (serial) => privateKeyToAccount(keyFor(serial)) };
}
