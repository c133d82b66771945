// Aftermarket device serials, normalised identically wherever one enters (API.md §2).
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const MAX_SERIAL_LENGTH = 128;
// Control and invisible formatting characters, line/paragraph separators and lone surrogates:
// they make two serials that look the same compare different, or cannot be stored as UTF-8.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

/**
 * Trims; lower-cases serials that are UUIDs (AutoPi unit ids were sent in both cases); keeps
 * every other serial's case, since manufacturers' serials may be case-sensitive. Returns null
 * for an empty serial, one over 128 characters, or one containing control characters.
 */
export function normaliseSerial(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  if (s.length === 0 || [...s].length > MAX_SERIAL_LENGTH || FORBIDDEN.test(s)) return null;
  return UUID.test(s) ? s.toLowerCase() : s;
}
