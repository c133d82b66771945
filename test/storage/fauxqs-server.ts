// An in-process S3-compatible server (fauxqs) on loopback with a random port, plus a real S3
// client pointed at it, for the S3 driver's tests.
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createS3BlobStore, createS3Client } from '../../src/storage/s3-blob-store.ts';

export interface FauxS3 {
  readonly endpoint: string;
  readonly bucket: string;
  /** A new client (the store under test takes ownership of the one it is given). */
  newClient(): S3Client;
  stop(): Promise<void>;
}

// Dummy keys passed explicitly, so the test never consults the machine's AWS credential chain.
export const DUMMY_CREDENTIALS = { accessKeyId: 'test-access-key', secretAccessKey: 'test-secret-key' };

export async function startFauxS3(bucket = 'devices-api-test'): Promise<FauxS3> {
  const app = buildApp({ logger: false });
  // buildApp instead of startFauxqs: the latter binds 0.0.0.0, the tests stay on loopback.
  const endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  const newClient = (): S3Client =>
    createS3Client({ endpoint, region: 'us-east-1', credentials: DUMMY_CREDENTIALS });
  const admin = newClient();
  try {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    admin.destroy();
  }
  return { endpoint, bucket, newClient, stop: () => app.close() };
}

/** A fresh server with the S3 store over it; `cleanup` closes the store, then the server. */
export async function openFauxS3Store(): Promise<{ store: BlobStore; cleanup(): Promise<void> }> {
  const s3 = await startFauxS3();
  const store = createS3BlobStore({ client: s3.newClient(), bucket: s3.bucket });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await s3.stop();
    },
  };
}
