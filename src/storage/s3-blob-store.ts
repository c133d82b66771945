// S3 (or S3-compatible) blob store. Uploads stream through lib-storage's multipart Upload: an
// object only appears when the upload completes, and a failed upload is aborted, so a broken
// stream never leaves a partial object.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidBlobKey,
  assertValidBlobPrefix,
  BlobNotFoundError,
  BlobRangeNotSatisfiableError,
} from './blob-store.ts';
import type { BlobInfo, BlobRead, BlobStore, ByteRange, PresignGetOptions, PutOptions } from './blob-store.ts';

export interface S3BlobStoreOptions {
  /** Owned by the store from now on: `close()` destroys it. */
  readonly client: S3Client;
  readonly bucket: string;
  /** Multipart part size (S3 minimum 5 MiB). Memory per upload is about (queueSize + 1) × partSize. */
  readonly partSize?: number;
  /** Parts uploaded concurrently per upload. */
  readonly queueSize?: number;
  /** Clock for presigning (tests). */
  readonly now?: () => Date;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/** The client settings this service needs: path-style addressing, checksums only when required. */
export function createS3Client(settings: {
  region?: string | undefined;
  endpoint?: string | undefined;
  /** Omit to use the standard AWS credential chain (env, profile, IMDS/ECS, web identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}): S3Client {
  return new S3Client({
    // S3-compatible servers often ignore the region but the signer needs one.
    region: settings.region ?? 'us-east-1',
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    forcePathStyle: true,
    // Many S3-compatible servers reject the SDK's default CRC32 trailers on every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const { client, bucket } = options;
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE);
  const queueSize = Math.max(1, options.queueSize ?? 2);
  const now = options.now ?? (() => new Date());

  async function put(key: string, source: Readable, opts: PutOptions): Promise<{ size: number }> {
    try {
      assertValidBlobKey(key);
    } catch (err) {
      source.destroy();
      throw err;
    }
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: counter, ContentType: opts.contentType },
      partSize,
      queueSize,
      leavePartsOnError: false, // abort the multipart upload on failure: no orphaned parts
    });
    const [piped, uploaded] = await Promise.allSettled([
      pipeline(source, counter),
      upload.done().catch((err: unknown) => {
        // lib-storage may stop reading without consuming the stream; unblock the pipeline.
        counter.destroy();
        throw err;
      }),
    ]);
    if (piped.status === 'fulfilled' && uploaded.status === 'fulfilled') return { size };
    source.destroy();
    // Report the source's own failure (a client disconnect, a size limit) over the upload's
    // echo of it; a premature close here is only our reaction to an upload failure.
    if (piped.status === 'rejected' && !isPrematureClose(piped.reason)) throw piped.reason;
    throw uploaded.status === 'rejected' ? uploaded.reason : (piped as PromiseRejectedResult).reason;
  }

  async function get(key: string, range?: ByteRange): Promise<BlobRead> {
    assertValidBlobKey(key);
    if (range && range.start > range.end) throw new BlobRangeNotSatisfiableError(key, undefined);
    let out;
    try {
      out = await client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      if (statusOf(err) === 416) throw new BlobRangeNotSatisfiableError(key, undefined);
      throw err;
    }
    const body = out.Body;
    if (!(body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
    const contentLength = out.ContentLength ?? 0;
    let size = contentLength;
    let slice: ByteRange | null = null;
    if (range) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(out.ContentRange ?? '');
      if (m) {
        slice = { start: Number(m[1]), end: Number(m[2]) };
        size = Number(m[3]);
      } else {
        // Some servers answer a range covering everything with a plain 200.
        slice = { start: 0, end: Math.max(0, contentLength - 1) };
      }
    }
    return { stream: body, size, range: slice, contentLength, contentType: out.ContentType };
  }

  async function head(key: string): Promise<BlobInfo | null> {
    assertValidBlobKey(key);
    try {
      const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async function remove(key: string): Promise<void> {
    assertValidBlobKey(key);
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })); // S3 deletes are idempotent
  }

  async function* list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidBlobPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const obj of page.Contents ?? []) {
        if (obj.Key === undefined) continue;
        yield { key: obj.Key, size: obj.Size ?? 0, lastModified: obj.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async function presignGet(key: string, opts: PresignGetOptions): Promise<string> {
    assertValidBlobKey(key);
    const command = new GetObjectCommand({
      Bucket: bucket,
      Key: key,
      ...(opts.contentType ? { ResponseContentType: opts.contentType } : {}),
      ...(opts.contentDisposition ? { ResponseContentDisposition: opts.contentDisposition } : {}),
    });
    return getSignedUrl(client, command, { expiresIn: opts.expiresInSeconds, signingDate: now() });
  }

  async function ping(): Promise<void> {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  }

  return {
    driver: 's3',
    put,
    get,
    head,
    delete: remove,
    list,
    presignGet,
    ping,
    close: async () => client.destroy(),
  };
}

// The configured endpoint, or AWS's regional one.
function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  if (name === 'NoSuchBucket') return false; // misconfiguration, not a missing blob
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(err) === 404;
}

function isPrematureClose(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}
