// Decides a document's type from its first bytes. The declared type (multipart header, file
// name) is client-controlled, so it can only ever veto, never admit, content.

export type DocumentContentType = 'application/pdf' | 'image/jpeg' | 'image/png';
export type DocumentExt = 'pdf' | 'jpg' | 'png';

export interface FileType {
  readonly contentType: DocumentContentType;
  readonly ext: DocumentExt;
}

interface Signature extends FileType {
  readonly magic: readonly number[];
}

// Signatures must start at offset 0. PDF readers tolerate a header anywhere in the first KiB,
// but accepting that would let a polyglot (e.g. HTML or an executable with a late %PDF-) in.
const SIGNATURES: readonly Signature[] = [
  { contentType: 'application/pdf', ext: 'pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { contentType: 'image/png', ext: 'png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { contentType: 'image/jpeg', ext: 'jpg', magic: [0xff, 0xd8, 0xff] },
];

/** How many leading bytes `sniffFileType` needs to see to decide (the longest signature). */
export const SNIFF_BYTES = Math.max(...SIGNATURES.map((s) => s.magic.length));

/** The allowed type `head` (the first bytes of a file) starts with, or null for anything else. */
export function sniffFileType(head: Uint8Array): FileType | null {
  for (const sig of SIGNATURES) {
    if (head.length >= sig.magic.length && sig.magic.every((b, i) => head[i] === b)) {
      return { contentType: sig.contentType, ext: sig.ext };
    }
  }
  return null;
}

// Non-standard names that real clients send for the same formats.
const ALIASES: Readonly<Record<string, DocumentContentType>> = {
  'application/pdf': 'application/pdf',
  'application/x-pdf': 'application/pdf',
  'image/jpeg': 'image/jpeg',
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/png': 'image/png',
  'image/x-png': 'image/png',
};

// These say "unknown binary", not "this is something else", so they do not contradict the bytes.
const NO_CLAIM = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/**
 * Whether a client's declared media type is consistent with the sniffed one. A missing or
 * generic declaration agrees; any other type (after dropping parameters and case) must name the
 * same format.
 */
export function declaredTypeAgrees(declared: string | undefined, sniffed: DocumentContentType): boolean {
  const essence = (declared ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (NO_CLAIM.has(essence)) return true;
  return ALIASES[essence] === sniffed;
}
