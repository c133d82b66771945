// Rules for a document's client-supplied metadata (the multipart text fields) and for the names
// derived from it. Pure: the service decides what to do with a rejection.

export const DOCUMENT_TYPES = [
  'DriversLicense',
  'Other',
  'VehicleTitle',
  'VehicleRegistration',
  'VehicleInsurance',
  'VehicleMaintenance',
  'VehicleCustomImage',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const MAX_DOCUMENT_NAME_CHARS = 255;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

// Control characters, plus the bidirectional overrides and isolates that make "cod.exe" display
// as "exe.doc" (a classic file-name spoof); neither has a place in a document's name.
const FORBIDDEN_IN_NAME = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;

/** A display name: trimmed, 1–255 characters (code points), no control or bidi-override characters. */
export function parseDocumentName(raw: string): Parsed<string> {
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, message: 'name must not be empty' };
  if (length > MAX_DOCUMENT_NAME_CHARS) return { ok: false, message: `name must be at most ${MAX_DOCUMENT_NAME_CHARS} characters (got ${length})` };
  if (FORBIDDEN_IN_NAME.test(name)) return { ok: false, message: 'name must not contain control characters' };
  return { ok: true, value: name };
}

export function parseDocumentType(raw: string): Parsed<DocumentType> {
  const t = raw.trim();
  return (DOCUMENT_TYPES as readonly string[]).includes(t)
    ? { ok: true, value: t as DocumentType }
    : { ok: false, message: `type must be one of ${DOCUMENT_TYPES.join(', ')}` };
}

// Other spellings of an extension that mean the same format.
const EXT_ALIASES: Readonly<Record<string, readonly string[]>> = { jpg: ['jpg', 'jpeg'], pdf: ['pdf'], png: ['png'] };

/** The download file name: the name plus `.<ext>`, unless the name already ends with that extension. */
export function downloadFilename(name: string, ext: string): string {
  const lower = name.toLowerCase();
  const already = (EXT_ALIASES[ext] ?? [ext]).some((e) => lower.endsWith(`.${e}`) && lower.length > e.length + 1);
  return already ? name : `${name}.${ext}`;
}

/** A list position: creation time (ms) and id of the last document seen, newest first. */
export interface DocumentCursor {
  readonly createdAtMs: number;
  readonly id: string;
}

const CURSOR = /^(\d{1,15})-([0-9A-Za-z]{27})$/;

/** `<createdAt ms>-<id>`: stable even if that document is deleted before the next page is read. */
export function encodeDocumentCursor(c: DocumentCursor): string {
  return `${c.createdAtMs}-${c.id}`;
}

export function decodeDocumentCursor(s: string): DocumentCursor | null {
  const m = CURSOR.exec(s);
  return m ? { createdAtMs: Number(m[1]), id: m[2]! } : null;
}
