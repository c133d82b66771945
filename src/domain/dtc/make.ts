// Vehicle makes as keys for manufacturer-specific DTC titles: "Ford", " FORD " and "ford" must
// find the same imported row.

/** Lower case, trimmed, inner blanks collapsed; null when nothing is left. */
export function normaliseMake(make: string | null | undefined): string | null {
  const m = (make ?? '').trim().replace(/\s+/g, ' ').toLowerCase();
  return m === '' ? null : m;
}
