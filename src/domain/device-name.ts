// Three-word device names shown in NFT metadata (API.md §5), stable for a given address.
import { english } from 'viem/accounts';
import { toChecksumAddress } from './address.ts';

/**
 * The first 33 bits of the 20 address bytes, read as three 11-bit indexes into the BIP-39
 * English wordlist. Throws on a malformed address (callers pass addresses from our records).
 */
export function deviceName(address: string): string {
  const hex = toChecksumAddress(address).slice(2, 12); // first 5 bytes = 40 bits
  const bits33 = BigInt(`0x${hex}`) >> 7n;
  const indexes = [(bits33 >> 22n) & 0x7ffn, (bits33 >> 11n) & 0x7ffn, bits33 & 0x7ffn];
  return indexes.map((i) => english[Number(i)] ?? '').join(' ');
}
