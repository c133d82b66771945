// Download validators. A document's bytes never change after upload, so its SHA-256 is a strong
// entity tag that needs no storage round trip to compute.

/** The strong ETag for content with this SHA-256 (hex). */
export function etagForSha256(sha256Hex: string): string {
  return `"${sha256Hex}"`;
}

/**
 * Whether `If-None-Match` matches `etag`, i.e. the answer to a GET is 304 (RFC 9110 §13.1.2:
 * `*` matches any current representation; otherwise a list of entity tags compared weakly,
 * so `W/"x"` matches `"x"`). A malformed header matches nothing. Never throws.
 */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const value = header.trim();
  if (value === '*') return true;
  const wanted = opaque(etag);
  if (wanted === null) return false;
  for (const m of value.matchAll(/(?:W\/)?("[\x21\x23-\x7e\x80-\xff]*")/g)) {
    if (m[1] === wanted) return true;
  }
  return false;
}

// The quoted part of an entity tag, without any weakness prefix.
function opaque(etag: string): string | null {
  const m = /^(?:W\/)?("[^"]*")$/.exec(etag.trim());
  return m?.[1] ?? null;
}
