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

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The base62 string of n + 1, same length (the caller guarantees no overflow). */
function incrementBase62(s: string): string {
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) === 122 /* z */) i--;
  return s.slice(0, i) + BASE62[BASE62.indexOf(s[i]!) + 1]! + '0'.repeat(s.length - 1 - i);
}

/**
 * KSUIDs each greater than every one this generator made before. KSUID timestamps have
 * one-second resolution, so random payloads put ids made within the same second in random order;
 * within a second this counts up instead, for rows whose order is their id's. Counting up adds
 * one to the base62 text (a KSUID's text order is its value order): a new payload is drawn below
 * 2^127, so a second's increments never reach the timestamp bytes.
 */
export function createMonotonicKsuids(): (at?: Date) => string {
  let last: { ms: number; id: string } | null = null;
  return (at = new Date()) => {
    const ms = Math.floor(at.getTime() / 1000) * 1000;
    if (last && ms <= last.ms) {
      last = { ms: last.ms, id: incrementBase62(last.id) };
    } else {
      const payload = randomBytes(16);
      payload[0]! &= 0x7f;
      last = { ms, id: KSUID.fromParts(ms, payload).string };
    }
    return last.id;
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
