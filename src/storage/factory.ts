// Picks the blob store from configuration: `S3_BUCKET` set → S3, otherwise a directory under the
// data directory (ARCHITECTURE.md: each component is chosen by its own setting).
import { join } from 'node:path';
import type { BlobStore } from './blob-store.ts';
import { createFsBlobStore } from './fs-blob-store.ts';
import { createS3BlobStore, createS3Client } from './s3-blob-store.ts';

export interface BlobStoreSettings {
  /** Embedded-mode data directory; the fs driver keeps blobs in `<dataDir>/blobs`. */
  readonly dataDir: string;
  /** `S3_BUCKET`: when set, blobs go to this bucket instead. */
  readonly s3Bucket?: string | undefined;
  /** `S3_REGION` (default us-east-1). */
  readonly s3Region?: string | undefined;
  /** `S3_ENDPOINT`, for S3-compatible servers (MinIO, R2, …). */
  readonly s3Endpoint?: string | undefined;
  /** Explicit keys; omitted in production so the standard AWS credential chain applies. */
  readonly s3Credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

export function blobDirOf(dataDir: string): string {
  return join(dataDir, 'blobs');
}

export function createBlobStore(settings: BlobStoreSettings): BlobStore {
  if (settings.s3Bucket) {
    const client = createS3Client({
      region: settings.s3Region,
      endpoint: settings.s3Endpoint,
      credentials: settings.s3Credentials,
    });
    return createS3BlobStore({ client, bucket: settings.s3Bucket });
  }
  return createFsBlobStore({ root: blobDirOf(settings.dataDir) });
}
