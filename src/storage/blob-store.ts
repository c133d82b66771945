// The blob store contract shared by the local-directory and S3 drivers. Callers hold metadata
// (type, size, hash) in the database; the store only keeps bytes under server-built keys.
import type { Readable } from 'node:stream';
import type { ByteRange } from '../domain/files/range.ts';

export type { ByteRange };

export interface PutOptions {
  /** Stored with the object where the backend can (S3); the database stays the source of truth. */
  readonly contentType: string;
}

export interface BlobInfo {
  readonly key: string;
  /** Total size of the stored object in bytes. */
  readonly size: number;
  readonly lastModified: Date;
}

export interface BlobRead {
  /** The requested bytes. Always consume or destroy it: it holds a file handle or a socket. */
  readonly stream: Readable;
  /** Total size of the stored object (not of the slice). */
  readonly size: number;
  /** The slice being streamed (end clamped to the object), or null for the whole object. */
  readonly range: ByteRange | null;
  /** Bytes `stream` will produce. */
  readonly contentLength: number;
  readonly contentType?: string | undefined;
}

export interface PresignGetOptions {
  readonly expiresInSeconds: number;
  /** Response header overrides, so a redirected download still gets the right headers. */
  readonly contentType?: string | undefined;
  readonly contentDisposition?: string | undefined;
}

export interface BlobStore {
  readonly driver: 'fs' | 's3';
  /**
   * Streams `source` into `key`. Atomic: readers see the old object or the complete new one, and
   * on any failure (including `source` erroring) nothing new remains under `key`. On failure
   * `source` is destroyed; the rejection carries `source`'s own error when that was the cause.
   */
  put(key: string, source: Readable, opts: PutOptions): Promise<{ size: number }>;
  /**
   * Opens `key` for reading, optionally a slice. Throws `BlobNotFoundError`, or
   * `BlobRangeNotSatisfiableError` when `range.start` is at or past the end.
   */
  get(key: string, range?: ByteRange): Promise<BlobRead>;
  /** Size and modification time, or null if absent. */
  head(key: string): Promise<BlobInfo | null>;
  /** Removes `key`; absent is fine (idempotent, so a delete can be retried). */
  delete(key: string): Promise<void>;
  /** Every key starting with `prefix`, in no particular order (for the orphan reconciler). */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** A time-limited URL a client can GET directly (S3 only). */
  presignGet?(key: string, opts: PresignGetOptions): Promise<string>;
  /** Resolves if the store is reachable and usable (readiness probe). */
  ping(): Promise<void>;
  /** Releases connections (S3); the fs driver holds nothing between calls. */
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
  }
}

export class BlobRangeNotSatisfiableError extends Error {
  override readonly name = 'BlobRangeNotSatisfiableError';
  constructor(
    readonly key: string,
    readonly size: number | undefined,
  ) {
    super(`range not satisfiable for blob: ${key}`);
  }
}

export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  constructor(readonly key: string) {
    super('invalid blob key');
  }
}

// Keys come from src/domain/files/keys.ts, never from user input; this check is defence in
// depth. Segments are plain names: no empty, `.`/`..` or dot-leading segments (the fs driver
// reserves dot names for its temp files), no backslashes, nothing a filesystem treats specially.
const KEY_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const MAX_KEY_LENGTH = 512;

export function isValidBlobKey(key: string): boolean {
  return key.length > 0 && key.length <= MAX_KEY_LENGTH && key.split('/').every((s) => KEY_SEGMENT.test(s));
}

export function assertValidBlobKey(key: string): void {
  if (!isValidBlobKey(key)) throw new InvalidBlobKeyError(key);
}

/** A list prefix is a valid key prefix: complete segments, then optionally a partial one. */
export function assertValidBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  const segments = prefix.split('/');
  const partial = segments.pop() ?? '';
  const ok =
    prefix.length <= MAX_KEY_LENGTH &&
    segments.every((s) => KEY_SEGMENT.test(s)) &&
    (partial === '' || KEY_SEGMENT.test(partial));
  if (!ok) throw new InvalidBlobKeyError(prefix);
}
