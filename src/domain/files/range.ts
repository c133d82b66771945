// Single-range `Range: bytes=…` requests (RFC 9110 §14). Multi-range answers would need
// multipart/byteranges; RFC 9110 lets a server ignore Range instead, which clients handle.

/** An inclusive byte range, `0 <= start <= end < size`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * - `'full'`: no Range header: send everything (200).
 * - `ByteRange`: send that slice (206 with `Content-Range`).
 * - `'unsatisfiable'`: a well-formed range entirely past the end (416, see `unsatisfiedContentRange`).
 * - `'ignore'`: multi-range, another unit, or malformed: RFC 9110 says ignore it (200, everything).
 */
export type RangeRequest = 'full' | 'ignore' | 'unsatisfiable' | ByteRange;

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/** Interprets a `Range` header against a representation of `size` bytes. Never throws. */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return 'full';
  const m = SINGLE_RANGE.exec(header.trim());
  if (!m) return 'ignore';
  const first = m[1] ?? '';
  const last = m[2] ?? '';

  if (first === '') {
    // Suffix range: the last N bytes.
    if (last === '') return 'ignore';
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    // A zero-length body has no bytes to address but the range is still satisfiable: send it whole.
    if (size === 0) return 'ignore';
    return { start: Math.max(0, size - n), end: size - 1 };
  }

  const start = Number(first);
  if (last !== '' && Number(last) < start) return 'ignore'; // invalid range-spec
  if (start >= size) return 'unsatisfiable';
  // Digits too long for a double become Infinity or round; clamping to the size makes that moot.
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}

/** `Content-Range` for a 206 answer. */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

/** `Content-Range` for a 416 answer. */
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}
