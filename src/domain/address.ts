// Ethereum addresses at the edge: accept any case, with or without 0x (API.md conventions),
// compare case-insensitively, emit EIP-55 checksummed.
// The EIP-55 checksum comes from @noble/hashes (viem's own keccak) rather than viem's getAddress:
// importing viem's root loads ~1500 modules, and the CLI parses addresses (`token --address`)
// on a path that must start in well under a second.
import { keccak_256 } from '@noble/hashes/sha3';
import type { Address } from 'viem';

const ADDRESS = /^(?:0[xX])?([0-9a-fA-F]{40})$/;

/**
 * Parses an address typed by a person or another service. The checksum of mixed-case input is
 * deliberately not enforced ("accept any case"): the original API emitted lower-case and
 * checksummed forms inconsistently, so clients hold both. Returns the checksummed form.
 */
export function parseAddress(input: unknown): Address | null {
  if (typeof input !== 'string') return null;
  const m = ADDRESS.exec(input);
  if (m === null) return null;
  return checksum((m[1] ?? '').toLowerCase());
}

/** EIP-55: a hex letter is upper-case where the keccak-256 of the lower-case hex has a nibble ≥ 8. */
function checksum(lowerHex: string): Address {
  const hash = keccak_256(new TextEncoder().encode(lowerHex));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? lowerHex[i]!.toUpperCase() : lowerHex[i];
  }
  return out as Address;
}

/** True when both parse and name the same account; a malformed side is never equal. */
export function sameAddress(a: unknown, b: unknown): boolean {
  const pa = parseAddress(a);
  return pa !== null && pa === parseAddress(b);
}

/** Checksums an address from a trusted source (our records, config); throws when malformed. */
export function toChecksumAddress(input: string): Address {
  const a = parseAddress(input);
  if (a === null) throw new TypeError(`not an Ethereum address: ${JSON.stringify(input)}`);
  return a;
}
