// 65-byte `r‖s‖v` signatures as clients send them, made acceptable to the registry's ECDSA check.
import { recoverAddress } from 'viem';
import type { Address, Hex } from 'viem';

const SIGNATURE_BYTES = 65;
// secp256k1 group order; OpenZeppelin's ECDSA refuses s above n/2 (malleability guard).
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N >> 1n;

export type ParsedSignature =
  | {
      ok: true;
      /** Canonical ECDSA form: lower-case 0x hex, v ∈ {27, 28}, low s. What the contract gets. */
      bytes: Hex;
      /** The signature exactly as sent (lower-case, 0x-prefixed), for ERC-1271 wallets whose
       *  signature format is their own business. */
      raw: Hex;
    }
  | { ok: false; reason: string };

/**
 * Parses a client-supplied signature. A missing `0x` is accepted because the original claim
 * route decoded with go-ethereum's FromHex, which made the prefix optional, and clients rely on
 * it. `v` of 0/1 (what some signers and hardware produce) becomes 27/28; a high-s signature is
 * rewritten to its equivalent low-s twin (same signer), since the registry would reject it.
 * `reason` completes a sentence whose subject is the signature field, e.g. "userSignature …".
 */
export function parseSignature(input: unknown): ParsedSignature {
  if (typeof input !== 'string') return { ok: false, reason: 'must be a hex string' };
  const digits = input.startsWith('0x') || input.startsWith('0X') ? input.slice(2) : input;
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length % 2 !== 0) {
    return { ok: false, reason: 'is not valid hex' };
  }
  const length = digits.length / 2;
  if (length !== SIGNATURE_BYTES) {
    return { ok: false, reason: `must be ${SIGNATURE_BYTES} bytes long, got ${length}` };
  }
  const hex = digits.toLowerCase();
  const r = hex.slice(0, 64);
  let s = BigInt(`0x${hex.slice(64, 128)}`);
  let v = Number.parseInt(hex.slice(128), 16);
  if (v === 0 || v === 1) v += 27;
  if (v !== 27 && v !== 28) {
    return { ok: false, reason: `has recovery byte v=${v}; expected 0, 1, 27 or 28` };
  }
  if (s > HALF_N && s < SECP256K1_N) {
    s = SECP256K1_N - s;
    v = v === 27 ? 28 : 27;
  }
  const bytes: Hex = `0x${r}${s.toString(16).padStart(64, '0')}${v.toString(16)}`;
  return { ok: true, bytes, raw: `0x${hex}` };
}

/**
 * The EOA that produced `signature` over `digest`, or null when the bytes are not a valid
 * signature (bad hex, r or s out of range, no point on the curve). Pure: ECDSA recovery only.
 * Contract wallets (ERC-1271) need a chain call and are checked elsewhere.
 */
export async function recoverDigestSigner(digest: Hex, signature: string): Promise<Address | null> {
  const parsed = parseSignature(signature);
  if (!parsed.ok) return null;
  try {
    return await recoverAddress({ hash: digest, signature: parsed.bytes });
  } catch {
    return null;
  }
}
