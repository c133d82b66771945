// Device definition ids: slugs `<make>_<model>_<year>` (API.md §1), e.g. `tesla_model-3_2019`.
//
// Slug rule for a make or model name (applied to vPIC names and to ids alike):
//   1. Unicode compatibility-decompose, lower-case, drop accents ("Citroën" → "citroen",
//      "Edison²" → "edison2"), "ß" → "ss";
//   2. drop apostrophes ("Mike's" → "mikes");
//   3. turn every other run of characters outside [a-z0-9] into one "-" (spaces, "/", "&", ".",
//      "_", "+", …: "Model 3" → "model-3", "F-150" → "f-150", "A & E" → "a-e");
//   4. trim "-" from both ends.
// So a slug part matches /^[a-z0-9]+(-[a-z0-9]+)*$/ and never holds "_", which keeps the "_"
// separator unambiguous. Distinct vPIC names can share a slug ("H Series"/"H-Series"); the
// catalog resolves such a collision to one entry.

export const MIN_DEFINITION_YEAR = 1981;

const PART = '[a-z0-9]+(?:-[a-z0-9]+)*';
const DEFINITION_ID = new RegExp(`^(${PART})_(${PART})_([0-9]{4})$`);

export interface ParsedDefinitionId {
  makeSlug: string;
  modelSlug: string;
  year: number;
}

/** The slug of one make or model name (see the rule above); '' when nothing alphanumeric remains. */
export function slugPart(name: string): string {
  return name
    .normalize('NFKD')
    // Upper then lower case, so a name's case never changes its slug: 'ı' lower-cases to itself
    // but upper-cases to 'I', and U+0345 upper-cases to a Greek iota.
    .toUpperCase()
    .toLowerCase()
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/['’ʼ`]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Throws when a name has no slug, since such an id could never be parsed back. */
export function makeDefinitionId(make: string, model: string, year: number): string {
  const makeSlug = slugPart(make);
  const modelSlug = slugPart(model);
  if (makeSlug === '' || modelSlug === '') throw new RangeError(`no slug for make ${JSON.stringify(make)} / model ${JSON.stringify(model)}`);
  if (!Number.isInteger(year) || year < 1000 || year > 9999) throw new RangeError(`year must have four digits: ${year}`);
  return `${makeSlug}_${modelSlug}_${year}`;
}

/** Model years a definition may have: 1981 (the 17-character VIN) up to next year's models. */
export function isDefinitionYear(year: number, currentYear: number): boolean {
  return Number.isInteger(year) && year >= MIN_DEFINITION_YEAR && year <= currentYear + 1;
}

/**
 * Parses a definition id, case-insensitively and ignoring surrounding whitespace; null when it
 * is not three well-formed slug parts or the year is outside 1981..currentYear + 1. Whether the
 * make and model exist is the catalog's question, not this one.
 */
export function parseDefinitionId(id: string, opts: { currentYear: number }): ParsedDefinitionId | null {
  const m = DEFINITION_ID.exec(id.trim().toLowerCase());
  if (!m) return null;
  const [, makeSlug = '', modelSlug = '', yearText = ''] = m;
  const year = Number(yearText);
  if (!isDefinitionYear(year, opts.currentYear)) return null;
  return { makeSlug, modelSlug, year };
}
