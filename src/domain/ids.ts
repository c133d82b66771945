// Identifiers: KSUIDs for our own rows, uint256 token ids for NFTs (API.md conventions).
import { randomBytes } from 'node:crypto';
import KSUID from 'ksuid';

// segmentio/ksuid's base62 alphabet: digits, upper case, lower case. Its ASCII order equals the
// digit order, so for fixed-length strings comparing text compares values.
const KSUID_SHAPE = /^[0-9A-Za-z]{27}$/;
/** 2^160 - 1 in base62: the largest 20-byte KSUID. 27 base62 digits can hold more. */
export const MAX_KSUID = 'aWgEPTl1tmebfsQzFP4bxwgy80V';

export function isKsuid(s: unknown): s is string {
  return typeof s === 'string' && KSUID_SHAPE.test(s) && s <= MAX_KSUID;
}

/** A new random KSUID string (timestamp `at`, default now). */
export function newKsuid(at: Date = new Date()): string {
  return KSUID.randomSync(at).string;
}

const MAX_PAYLOAD = (1n << 128n) - 1n;

/**
 * KSUIDs each greater than every one this generator made before. KSUID timestamps have
 * one-second resolution, so random payloads put ids made within the same second in random order;
 * within a second this counts up instead, for rows whose order is their id's.
 */
export function createMonotonicKsuids(): (at?: Date) => string {
  let last: { ms: number; payload: bigint } | null = null;
  return (at = new Date()) => {
    const ms = Math.floor(at.getTime() / 1000) * 1000;
    if (last && ms <= last.ms && last.payload < MAX_PAYLOAD) {
      last = { ms: last.ms, payload: last.payload + 1n };
    } else {
      last = { ms: Math.max(ms, last?.ms ?? 0), payload: BigInt(`0x${randomBytes(16).toString('hex')}`) >> 1n };
    }
    return KSUID.fromParts(last.ms, Buffer.from(last.payload.toString(16).padStart(32, '0'), 'hex')).string;
  };
}

const TOKEN_ID = /^[0-9]{1,78}$/;
export const MAX_UINT256 = (1n << 256n) - 1n;

/**
 * A token id from a path or query: plain decimal digits only (no sign, hex, spaces or exponent),
 * at most 2^256 - 1. Leading zeros are allowed and do not change the value.
 */
export function parseTokenId(s: unknown): bigint | null {
  if (typeof s !== 'string' || !TOKEN_ID.test(s)) return null;
  const n = BigInt(s);
  return n <= MAX_UINT256 ? n : null;
}
