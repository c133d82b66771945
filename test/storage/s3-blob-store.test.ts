import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createS3BlobStore, createS3Client } from '../../src/storage/s3-blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { openFauxS3Store, startFauxS3 } from './fauxqs-server.ts';
import type { FauxS3 } from './fauxqs-server.ts';
import { pdfBytes } from './helpers.ts';

blobStoreContract('s3', openFauxS3Store);

describe('s3 blob store specifics', () => {
  let s3: FauxS3;
  let store: BlobStore;
  before(async () => {
    s3 = await startFauxS3();
    store = createS3BlobStore({ client: s3.newClient(), bucket: s3.bucket, now: () => new Date() });
  });
  after(async () => {
    await store.close();
    await s3.stop();
  });

  it('returns the stored content type on download', async () => {
    await store.put('ct/doc', Readable.from([pdfBytes(100)]), { contentType: 'application/pdf' });
    const read = await store.get('ct/doc');
    read.stream.destroy();
    assert.equal(read.contentType, 'application/pdf');
  });

  it('presigns a GET URL that downloads the blob with the requested headers', async () => {
    const data = pdfBytes(2048);
    await store.put('presign/doc', Readable.from([data]), { contentType: 'application/pdf' });
    assert.equal(typeof store.presignGet, 'function');
    const url = await store.presignGet!('presign/doc', {
      expiresInSeconds: 300,
      contentType: 'application/pdf',
      contentDisposition: "attachment; filename=\"a.pdf\"; filename*=UTF-8''a.pdf",
    });
    const parsed = new URL(url);
    assert.equal(parsed.origin, new URL(s3.endpoint).origin);
    assert.equal(parsed.pathname, `/${s3.bucket}/presign/doc`);
    assert.equal(parsed.searchParams.get('X-Amz-Expires'), '300');
    assert.match(parsed.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  });

  it('fails ping when the bucket does not exist', async () => {
    const other = createS3BlobStore({ client: s3.newClient(), bucket: 'no-such-bucket' });
    try {
      await assert.rejects(other.ping());
    } finally {
      await other.close();
    }
  });

  it('fails ping when nothing listens at the endpoint', async () => {
    const dead = createS3BlobStore({
      client: createS3Client({
        endpoint: 'http://127.0.0.1:1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      bucket: s3.bucket,
    });
    try {
      await assert.rejects(dead.ping());
    } finally {
      await dead.close();
    }
  });
});
