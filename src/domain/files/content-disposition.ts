// `Content-Disposition` for downloads (RFC 6266 + RFC 8187). Names are user text: any Unicode,
// quotes, slashes, control characters. The header must stay visible ASCII whatever they contain.
// `filename*` is the content-disposition package's encoding; its whole header is not used: it
// drops path parts of the name (basename), leaves out `filename*` for ASCII names and turns
// non-ASCII fallback characters into `?`, which would change every download's header.
import { encodeExtended } from 'content-disposition';

const FALLBACK_NAME = 'download';

/**
 * `attachment; filename="<ascii fallback>"; filename*=UTF-8''<percent-encoded name>`.
 * Modern clients use `filename*` (exact name); the quoted fallback is for old ones. Never throws.
 */
export function contentDisposition(filename: string): string {
  const name = toWellFormed(filename) || FALLBACK_NAME;
  return `attachment; filename="${asciiFallback(name)}"; filename*=${encodeExtended(name)}`;
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
