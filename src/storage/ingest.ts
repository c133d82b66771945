// Streams an upload into the blob store while checking it: the type is decided from the first
// bytes before anything is written, and bytes are counted and hashed on the way through, so the
// whole file is never held in memory. Failures are typed so the route can answer 413/415.
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { declaredTypeAgrees, SNIFF_BYTES, sniffFileType } from '../domain/files/sniff.ts';
import type { DocumentContentType, DocumentExt } from '../domain/files/sniff.ts';
import type { BlobStore } from './blob-store.ts';

/** Default `DOCUMENT_MAX_BYTES`: 10 MiB. */
export const DEFAULT_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024;

/** The upload is larger than allowed (→ 413). */
export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
  readonly statusCode = 413;
  readonly code = 'PAYLOAD_TOO_LARGE';
  constructor(readonly maxBytes: number) {
    super(`file is larger than the limit of ${maxBytes} bytes`);
  }
}

/** The bytes are not an allowed type, or contradict the declared type (→ 415). */
export class UnsupportedTypeError extends Error {
  override readonly name = 'UnsupportedTypeError';
  readonly statusCode = 415;
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(
    readonly reason: 'unrecognised' | 'mismatch',
    readonly detected: DocumentContentType | null,
    readonly declared: string | undefined,
  ) {
    super(
      reason === 'unrecognised'
        ? 'file content is not JPEG, PNG or PDF'
        : `file content is ${detected} but was declared as ${declared}`,
    );
  }
}

export interface IngestOptions {
  readonly store: BlobStore;
  /** Server-built (src/domain/files/keys.ts). */
  readonly key: string;
  readonly source: Readable;
  readonly maxBytes: number;
  /** The client's claimed media type (e.g. the multipart part's Content-Type), if any. */
  readonly declaredType?: string | undefined;
}

export interface IngestResult {
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
  readonly contentType: DocumentContentType;
  readonly ext: DocumentExt;
}

/**
 * Checks and stores one upload. Resolves once the blob is durably stored under `key`. Rejects
 * with `UnsupportedTypeError` (nothing written at all), `TooLargeError`, the source's own error
 * (e.g. the client disconnected) or a store error; in every failure case nothing remains under
 * `key` and `source` has been destroyed.
 *
 * With @fastify/multipart, leave its `limits.fileSize` above `maxBytes` (or unset): at its
 * limit it silently truncates the stream, which would look like a complete file here.
 */
export async function ingestUpload(opts: IngestOptions): Promise<IngestResult> {
  const { source, maxBytes } = opts;
  const { head, body } = await peekHead(source, SNIFF_BYTES);
  const type = sniffFileType(head);
  if (type === null || !declaredTypeAgrees(opts.declaredType, type.contentType)) {
    body.destroy();
    source.destroy();
    throw new UnsupportedTypeError(type ? 'mismatch' : 'unrecognised', type?.contentType ?? null, opts.declaredType);
  }

  const meter = new IngestMeter(maxBytes);
  const [piped, stored] = await Promise.allSettled([
    pipeline(body, meter),
    opts.store.put(opts.key, meter, { contentType: type.contentType }),
  ]);
  if (piped.status === 'rejected' || stored.status === 'rejected') {
    source.destroy();
    // The meter's and the source's errors explain the failure; the store's rejection usually
    // just echoes them.
    const cause = piped.status === 'rejected' ? piped.reason : (stored as PromiseRejectedResult).reason;
    throw stored.status === 'rejected' && isPrematureClose(cause) ? stored.reason : cause;
  }
  return { size: meter.bytes, sha256: meter.digest(), contentType: type.contentType, ext: type.ext };
}

/**
 * Counts and hashes bytes passing through; errors with `TooLargeError` as soon as more than
 * `maxBytes` have been seen (a file of exactly `maxBytes` passes).
 */
export class IngestMeter extends Transform {
  #bytes = 0;
  readonly #hash = createHash('sha256');

  constructor(readonly maxBytes: number) {
    super();
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** SHA-256 (hex) of everything that passed. Call once, after the stream finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) {
      cb(new TooLargeError(this.maxBytes));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }
}

/**
 * Reads at least `n` bytes (fewer only if the stream ends first) and hands back a stream that
 * still yields everything from the first byte. The bytes are pushed back with `unshift`, so the
 * usual case keeps the original stream (and its error and destroy behaviour).
 */
export function peekHead(source: Readable, n: number): Promise<{ head: Buffer; body: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onReadable = (): void => {
      let chunk: unknown;
      while (length < n && (chunk = source.read()) !== null) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        chunks.push(buf);
        length += buf.length;
      }
      if (length >= n) {
        cleanup();
        const head = Buffer.concat(chunks);
        source.unshift(head);
        resolve({ head, body: source });
      }
    };
    const onEnd = (): void => {
      // Ended before `n` bytes: too late to unshift, so replay what was read.
      cleanup();
      const head = Buffer.concat(chunks);
      resolve({ head, body: Readable.from([head], { objectMode: false }) });
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      // Destroyed without an error (e.g. an aborted request): never going to get the bytes.
      cleanup();
      reject(Object.assign(new Error('upload stream closed before its data'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    if (source.destroyed || source.readableEnded) {
      reject(Object.assign(new Error('upload stream already consumed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      return;
    }
    source.on('readable', onReadable);
    source.on('end', onEnd);
    source.on('error', onError);
    source.on('close', onClose);
  });
}

function isPrematureClose(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
