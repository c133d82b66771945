// Vehicle Identification Numbers (ISO 3779 / 49 CFR 565): parsing and the check digit.

export type VinResult = { ok: true; vin: string } | { ok: false; message: string };

export const VIN_LENGTH = 17;
const VIN_CHARS = /^[A-HJ-NPR-Z0-9]{17}$/;

/**
 * Trims and upper-cases, then requires 17 characters of [A-HJ-NPR-Z0-9]. The check digit is
 * deliberately not enforced: only North American VINs must carry a valid one, and rejecting the
 * rest would refuse real cars. The message names every problem found (length, I/O/Q, others).
 */
export function parseVin(raw: unknown): VinResult {
  if (typeof raw !== 'string') return { ok: false, message: 'VIN must be a string' };
  const vin = raw.trim().toUpperCase();
  if (VIN_CHARS.test(vin)) return { ok: true, vin };

  const problems: string[] = [];
  const length = [...vin].length;
  if (length !== VIN_LENGTH) problems.push(`VIN must be 17 characters long, got ${length}`);
  const ioq = findChars(vin, (c) => c === 'I' || c === 'O' || c === 'Q');
  if (ioq.length > 0) problems.push(`VIN cannot contain the letters I, O or Q (found ${describe(ioq)})`);
  const other = findChars(vin, (c) => !/^[A-Z0-9]$/.test(c));
  if (other.length > 0) problems.push(`VIN may only contain letters and digits (found ${describe(other)})`);
  return { ok: false, message: problems.join('; ') };
}

// Transliteration values (49 CFR 565.15): I, O and Q never occur, so they have none.
const VALUES: Readonly<Record<string, number>> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2] as const;

/** The check digit ('0'-'9' or 'X') that position 9 should hold; expects a parsed VIN. */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < VIN_LENGTH; i++) {
    const c = vin[i] ?? '0';
    const value = c >= '0' && c <= '9' ? c.charCodeAt(0) - 48 : (VALUES[c] ?? 0);
    sum += value * (WEIGHTS[i] ?? 0);
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

/** Whether position 9 holds the right check digit (required in North America only). */
export function vinCheckDigitValid(vin: string): boolean {
  return VIN_CHARS.test(vin) && vin[8] === vinCheckDigit(vin);
}

function findChars(s: string, bad: (c: string) => boolean): { char: string; position: number }[] {
  return [...s].flatMap((char, i) => (bad(char) ? [{ char, position: i + 1 }] : []));
}

function describe(found: { char: string; position: number }[]): string {
  const shown = found.slice(0, 3).map(({ char, position }) => `${JSON.stringify(char)} at position ${position}`);
  return found.length > 3 ? `${shown.join(', ')}, …` : shown.join(', ');
}
