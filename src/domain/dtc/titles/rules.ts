// Building blocks for the bundled title table. J2012 numbers most faults in families — one
// component followed by its circuit, range, low, high and intermittent variants; the same check
// per cylinder, bank or sensor — so the table is written as families rather than line by line.

export type Entry = readonly [code: string, title: string];

// Fault wordings shared by the families below.
export const SENSOR5 = [
  'circuit fault',
  'signal implausible or out of range',
  'circuit low',
  'circuit high',
  'signal intermittent or erratic',
] as const;
export const SENSOR4 = SENSOR5.slice(0, 4);
/** Circuit, low, high: the three-code electrical families. */
export const CIRCUIT3 = ['circuit fault', 'circuit low', 'circuit high'] as const;
export const CONTROL3 = ['control circuit open or faulty', 'control circuit low', 'control circuit high'] as const;
export const CONTROL4 = [
  'control circuit open or faulty',
  'control circuit implausible or out of range',
  'control circuit low',
  'control circuit high',
] as const;
/** Speed and position pick-ups, which report a missing signal rather than low/high. */
export const SPEED4 = ['circuit fault', 'signal implausible or out of range', 'no signal', 'signal intermittent'] as const;
/** Transmission solenoids. */
export const SOLENOID5 = [
  'malfunction',
  'performance problem or stuck off',
  'stuck on',
  'electrical fault',
  'intermittent fault',
] as const;

/**
 * The code `n` places after `code`. Blocks written with decimal digits (P0261, P0264, ...) count
 * in decimal, as J2012 does for them; blocks containing hex letters (P010A, P010B) count in hex,
 * and so does any block when `hex` says so (B0028, B0029, B002A, ...).
 */
export function offset(code: string, n: number, hex = false): string {
  const tail = code.slice(2);
  const decimal = !hex && /^[0-9]{3}$/.test(tail);
  const value = parseInt(tail, decimal ? 10 : 16) + n;
  const next = (decimal ? value.toString(10) : value.toString(16).toUpperCase()).padStart(3, '0');
  if (value < 0 || next.length > 3) throw new RangeError(`${code} + ${n} leaves the code range`);
  return code.slice(0, 2) + next;
}

/** One code per fault, numbered consecutively from `start`: "<subject>: <fault>". */
export function family(start: string, subject: string, faults: readonly string[]): Entry[] {
  return faults.map((fault, i) => [offset(start, i), `${subject}: ${fault}`]);
}

/** Consecutive codes with the titles given, counted in hex when `hex` says so. */
export function run(start: string, titles: readonly string[], hex = false): Entry[] {
  return titles.map((title, i) => [offset(start, i, hex), title]);
}

/** `count` codes spaced `step` apart, titled by `title(i)` for i = 1..count. */
export function numbered(start: string, count: number, step: number, title: (i: number) => string): Entry[] {
  return Array.from({ length: count }, (_, k) => [offset(start, k * step), title(k + 1)] as const);
}

/** A family repeated for numbered units (cylinders, banks): `step` codes apart. */
export function perUnit(
  start: string,
  count: number,
  step: number,
  subject: (i: number) => string,
  faults: readonly string[],
): Entry[] {
  return Array.from({ length: count }, (_, k) => family(offset(start, k * step), subject(k + 1), faults)).flat();
}

/** Letter of the i-th item (1 → A). */
export function letter(i: number): string {
  return String.fromCharCode(64 + i);
}

/** "(bank 1, sensor 2)" */
export function bankSensor(bank: number, sensor: number): string {
  return `(bank ${bank}, sensor ${sensor})`;
}

/** The six oxygen-sensor positions in the order J2012 lists them: bank 1 sensors 1-3, then bank 2. */
export const O2_POSITIONS: readonly (readonly [bank: number, sensor: number])[] = [
  [1, 1],
  [1, 2],
  [1, 3],
  [2, 1],
  [2, 2],
  [2, 3],
];
