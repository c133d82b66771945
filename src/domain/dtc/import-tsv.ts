// Parsing of `devices-api dtc import <file>`: a TSV of `code<TAB>make<TAB>description` whose
// rows override the bundled titles (an empty make means the row applies to every make).
import { parseDtc } from './code.ts';
import { normaliseMake } from './make.ts';

export interface DtcImportRow {
  /** Five-character code in upper case. */
  readonly code: string;
  /** Normalised make (see normaliseMake), or null for every make. */
  readonly make: string | null;
  readonly description: string;
}

export interface DtcImportError {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly message: string;
}

export type DtcImportResult =
  | { readonly ok: true; readonly rows: DtcImportRow[] }
  | { readonly ok: false; readonly errors: DtcImportError[] };

export const MAX_IMPORTED_DESCRIPTION = 1000;
const HEADER = /^code\tmake\tdescription$/i;
// Control characters other than tab would end up in JSON responses and terminals.
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/**
 * Parses the whole file, collecting every bad line rather than stopping at the first, so one run
 * shows everything to fix. Blank lines, `#` comments and a `code<TAB>make<TAB>description` header
 * are skipped. A row repeating an earlier code and make is dropped when its description is the
 * same and an error otherwise.
 */
export function parseDtcImportTsv(text: string): DtcImportResult {
  const rows: DtcImportRow[] = [];
  const errors: DtcImportError[] = [];
  const firstLine = new Map<string, { line: number; description: string }>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#') || HEADER.test(raw.trim())) continue;
    const parsed = parseRow(raw);
    if (typeof parsed === 'string') {
      errors.push({ line, message: parsed });
      continue;
    }
    const key = `${parsed.code}\t${parsed.make ?? ''}`;
    const earlier = firstLine.get(key);
    if (earlier === undefined) {
      firstLine.set(key, { line, description: parsed.description });
      rows.push(parsed);
    } else if (earlier.description !== parsed.description) {
      const who = parsed.make === null ? 'all makes' : `make "${parsed.make}"`;
      errors.push({ line, message: `${parsed.code} for ${who} already has a different description on line ${earlier.line}` });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, rows };
}

// A row, or the reason it is not one.
function parseRow(raw: string): DtcImportRow | string {
  const fields = raw.split('\t');
  if (fields.length < 3) {
    return `expected 3 tab-separated fields (code, make, description), found ${fields.length}`;
  }
  const [codeField = '', makeField = '', ...rest] = fields;
  const parsed = parseDtc(codeField);
  if (!parsed) return `${JSON.stringify(codeField.trim().slice(0, 40))} is not a DTC such as P0106`;
  if (parsed.failureType !== null) return `${parsed.code}: titles are per code, drop the failure-type byte`;
  // Tabs inside the description are taken as part of it rather than as a malformed row.
  const description = rest.join(' ').trim().replace(/\s+/g, ' ');
  if (description === '') return `${parsed.base}: description is empty`;
  if (CONTROL.test(description)) return `${parsed.base}: description contains control characters`;
  if ([...description].length > MAX_IMPORTED_DESCRIPTION) {
    return `${parsed.base}: description is longer than ${MAX_IMPORTED_DESCRIPTION} characters`;
  }
  if (CONTROL.test(makeField)) return `${parsed.base}: make contains control characters`;
  return { code: parsed.base, make: normaliseMake(makeField), description };
}
