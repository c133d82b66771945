// Ethereum addresses at the edge: accept any case, with or without 0x (API.md conventions),
// compare case-insensitively, emit EIP-55 checksummed.
import { getAddress } from 'viem';
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
  // Lower-casing first makes getAddress compute the checksum instead of verifying one.
  return getAddress(`0x${(m[1] ?? '').toLowerCase()}`);
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
