import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { createBlobStore } from '../../src/storage/factory.ts';
import { DUMMY_CREDENTIALS, startFauxS3 } from './fauxqs-server.ts';
import { collect } from './helpers.ts';

describe('createBlobStore', () => {
  it('keeps blobs under <dataDir>/blobs when no bucket is configured', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'blob-factory-'));
    try {
      const store = createBlobStore({ dataDir, s3Bucket: '' });
      assert.equal(store.driver, 'fs');
      await store.put('a/b', Readable.from([Buffer.from('%PDF-x')]), { contentType: 'application/pdf' });
      assert.ok(existsSync(join(dataDir, 'blobs', 'a', 'b')));
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('uses the S3 bucket at the configured endpoint when a bucket is set', async () => {
    const s3 = await startFauxS3('factory-bucket');
    const store = createBlobStore({
      dataDir: join(tmpdir(), 'blob-factory-unused'), // never touched: S3 wins
      s3Bucket: s3.bucket,
      s3Endpoint: s3.endpoint,
      s3Region: 'eu-west-1',
      s3Credentials: DUMMY_CREDENTIALS,
    });
    try {
      assert.equal(store.driver, 's3');
      await store.ping();
      await store.put('a/b', Readable.from([Buffer.from('%PDF-s3')]), { contentType: 'application/pdf' });
      assert.equal((await collect((await store.get('a/b')).stream)).toString(), '%PDF-s3');
    } finally {
      await store.close();
      await s3.stop();
    }
  });
});
