// Parsing of SAE J2012 diagnostic trouble codes as clients submit them (API.md §4).

/** A validated code. `code` is the normalised form clients see, e.g. `P0106` or `P0106-1C`. */
export interface ParsedDtc {
  readonly code: string;
  /** The five-character code without the failure-type byte, e.g. `P0106`. */
  readonly base: string;
  /** The failure-type byte as two upper-case hex digits, or null when none was given. */
  readonly failureType: string | null;
}

export type DtcListResult =
  | { readonly ok: true; readonly codes: ParsedDtc[] }
  | { readonly ok: false; readonly message: string };

export const MAX_CODES_PER_REQUEST = 100;

// System letter, a digit 0-3 (who defines it), three hex digits; then an optional failure-type
// byte, which scan tools print either as `-1C` or glued on as `1C`. Matched case-insensitively
// before upper-casing: without the `u` flag, `i` never maps a non-ASCII character onto an ASCII
// one, whereas upper-casing first would turn e.g. the ligature "ﬀ" into a valid "FF".
const DTC = /^([PCBU][0-3][0-9A-F]{3})(?:-?([0-9A-F]{2}))?$/i;
// Longer junk is cut in error messages so a 1 MB string does not come back in the response.
const MAX_ECHO = 40;

/** Parses one code, accepting any case and surrounding blanks. Undefined when it is not a DTC. */
export function parseDtc(raw: string): ParsedDtc | undefined {
  const m = DTC.exec(raw.trim());
  if (!m) return undefined;
  const base = (m[1] as string).toUpperCase();
  const failureType = m[2]?.toUpperCase() ?? null;
  return { code: failureType === null ? base : `${base}-${failureType}`, base, failureType };
}

/**
 * Validates a request's `errorCodes` value: at most 100 entries (counted before blanks are
 * dropped, as the original did), each a string; blank strings are dropped; every other entry must
 * be a DTC. Codes come back normalised, each once, in first-seen order.
 */
export function parseDtcList(input: unknown): DtcListResult {
  if (!Array.isArray(input)) return { ok: false, message: 'errorCodes must be a list of strings.' };
  if (input.length > MAX_CODES_PER_REQUEST) {
    return { ok: false, message: `Too many error codes. Error codes list must be ${MAX_CODES_PER_REQUEST} or below in length.` };
  }
  const seen = new Set<string>();
  const codes: ParsedDtc[] = [];
  for (const [i, entry] of input.entries()) {
    if (typeof entry !== 'string') {
      return { ok: false, message: `errorCodes[${i}] must be a string, got ${describeType(entry)}.` };
    }
    if (entry.trim() === '') continue;
    const parsed = parseDtc(entry);
    if (!parsed) {
      return {
        ok: false,
        message:
          `Invalid error code ${echo(entry)}: expected an SAE J2012 code such as P0106 ` +
          '(P, C, B or U, a digit 0-3, three hex digits), optionally with a failure-type byte such as P0106-1C.',
      };
    }
    if (seen.has(parsed.code)) continue;
    seen.add(parsed.code);
    codes.push(parsed);
  }
  return { ok: true, codes };
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : typeof v;
}

// JSON quoting makes control characters and quotes in the bad code visible and harmless.
function echo(s: string): string {
  const chars = [...s];
  return JSON.stringify(chars.length > MAX_ECHO ? `${chars.slice(0, MAX_ECHO).join('')}…` : s);
}
