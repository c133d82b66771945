// `Content-Disposition` for downloads (RFC 6266 + RFC 8187). Names are user text: any Unicode,
// quotes, slashes, control characters. The header must stay visible ASCII whatever they contain.

const FALLBACK_NAME = 'download';

/**
 * `attachment; filename="<ascii fallback>"; filename*=UTF-8''<percent-encoded name>`.
 * Modern clients use `filename*` (exact name); the quoted fallback is for old ones. Never throws.
 */
export function contentDisposition(filename: string): string {
  const name = toWellFormed(filename) || FALLBACK_NAME;
  return `attachment; filename="${asciiFallback(name)}"; filename*=UTF-8''${encodeRfc8187(name)}`;
}

/**
 * RFC 8187 `value-chars`: everything outside `attr-char` percent-encoded as UTF-8.
 * encodeURIComponent leaves `'()*` alone, which attr-char does not allow.
 */
export function encodeRfc8187(value: string): string {
  return encodeURIComponent(toWellFormed(value)).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

// Accents are dropped rather than replaced (Résumé → Resume); whatever is still not printable
// ASCII, and the characters that break or confuse a quoted-string (`"` `\`), path separators
// and `%` (some agents percent-decode the fallback), become `_`.
function asciiFallback(name: string): string {
  const folded = name.normalize('NFKD').replace(/\p{M}/gu, '');
  const ascii = folded.replace(/[^\x20-\x7e]|["\\/%]/gu, '_').trim();
  return ascii === '' ? FALLBACK_NAME : ascii;
}

// Lone surrogates cannot be encoded as UTF-8 (encodeURIComponent throws on them).
// String.prototype.toWellFormed is ES2024, newer than this project's lib target.
function toWellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
