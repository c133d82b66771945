import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createS3BlobStore } from '../../src/storage/s3-blob-store.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { openFauxS3Store, startFauxS3, type FauxS3 } from '../storage/fauxqs-server.ts';
import { download, pdf, uploadDoc } from './documents-helpers.ts';
import { documentRoutesSuite } from './documents-suite.ts';

documentRoutesSuite('s3', openFauxS3Store);

describe('document downloads redirected to presigned S3 URLs (DOCUMENT_DOWNLOAD_REDIRECT=true)', () => {
  let s3: FauxS3;
  let t: TestApp;
  let alice: string;
  before(async () => {
    s3 = await startFauxS3();
    t = await createTestApp({
      env: { DOCUMENT_DOWNLOAD_REDIRECT: 'true' },
      deps: { blobStore: createS3BlobStore({ client: s3.newClient(), bucket: s3.bucket }) },
    });
    alice = await t.token('alice');
  });
  after(async () => {
    await t.close();
    await t.blobStore.close();
    await s3.stop();
  });

  it('redirects to a short-lived URL that serves the same bytes with the right headers', async () => {
    const data = pdf(100_000);
    const { json: doc } = await uploadDoc(t, alice, { data, name: 'Título café' });
    const r = await download(t, alice, doc.id);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('etag'), `"${doc.sha256}"`);
    const location = new URL(r.headers.get('location')!);
    assert.equal(location.origin, new URL(s3.endpoint).origin);
    assert.equal(location.searchParams.get('X-Amz-Expires'), '300');
    assert.equal(location.searchParams.get('response-content-type'), 'application/pdf');
    assert.equal(location.searchParams.get('response-content-disposition'), `attachment; filename="Titulo cafe.pdf"; filename*=UTF-8''T%C3%ADtulo%20caf%C3%A9.pdf`);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.ok(Buffer.from(await direct.arrayBuffer()).equals(data));
  });

  it('still answers 304 itself, and 404 for other users, without redirecting', async () => {
    const { json: doc } = await uploadDoc(t, alice);
    assert.equal((await download(t, alice, doc.id, { 'if-none-match': `"${doc.sha256}"` })).status, 304);
    const bob = await t.token('bob');
    const other = await download(t, bob, doc.id);
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('location'), null);
  });
});
