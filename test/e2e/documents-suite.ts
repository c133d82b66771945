// Every documents route over HTTP, run once per blob store driver (fs and S3).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import {
  abandonUpload,
  createVehicle,
  download,
  exe,
  jpeg,
  listKeys,
  MiB,
  observeStore,
  pdf,
  png,
  uploadDoc,
  uploadParts,
  type ObservedStore,
} from './documents-helpers.ts';

export interface DriverSetup {
  store: BlobStore;
  cleanup(): Promise<void>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function documentRoutesSuite(driver: 'fs' | 's3', setup: () => Promise<DriverSetup>): void {
  describe(`documents routes (${driver} blob store)`, () => {
    let t: TestApp;
    let env: DriverSetup;
    let observed: ObservedStore;
    let alice: string;
    let bob: string;

    before(async () => {
      env = await setup();
      observed = observeStore(env.store);
      t = await createTestApp({ deps: { blobStore: observed.store } });
      alice = await t.token('alice');
      bob = await t.token('bob');
    });
    after(async () => {
      await t.close();
      await env.cleanup();
    });

    it('uploads, reads, lists, downloads and deletes a document under one id', async () => {
      const data = pdf(20_000);
      const up = await uploadDoc(t, alice, { data, name: 'Insurance 2026', type: 'VehicleInsurance' });
      assert.equal(up.status, 201);
      const doc = up.json;
      assert.match(doc.id, /^[0-9A-Za-z]{27}$/);
      assert.deepEqual(
        { ...doc, createdAt: undefined },
        {
          id: doc.id,
          name: 'Insurance 2026',
          type: 'VehicleInsurance',
          ext: 'pdf',
          contentType: 'application/pdf',
          size: data.length,
          sha256: sha256(data),
          userDeviceId: null,
          url: `http://api.test/v1/documents/${doc.id}/download`,
          createdAt: undefined,
        },
      );
      assert.ok(!Number.isNaN(Date.parse(doc.createdAt)));

      const got = await t.request('GET', `/v1/documents/${doc.id}`, { token: alice });
      assert.equal(got.status, 200);
      assert.deepEqual(got.json, doc);

      const list = await t.request('GET', '/v1/documents', { token: alice });
      assert.equal(list.status, 200);
      assert.ok(Array.isArray(list.json), 'the list is a bare array, as the original API returned');
      assert.deepEqual(list.json.find((d: any) => d.id === doc.id), doc);

      const dl = await download(t, alice, doc.id);
      assert.equal(dl.status, 200);
      assert.ok(dl.body.equals(data));
      assert.equal(dl.headers.get('content-type'), 'application/pdf');
      assert.equal(dl.headers.get('content-length'), String(data.length));
      assert.equal(dl.headers.get('etag'), `"${sha256(data)}"`);
      assert.equal(dl.headers.get('content-disposition'), `attachment; filename="Insurance 2026.pdf"; filename*=UTF-8''Insurance%202026.pdf`);
      assert.equal(dl.headers.get('accept-ranges'), 'bytes');

      const key = keyOf(await listKeys(env.store), doc.id);
      assert.ok(key, 'the blob is stored under a key ending in the document id');
      const del = await t.request('DELETE', `/v1/documents/${doc.id}`, { token: alice });
      assert.equal(del.status, 204);
      assert.equal((await t.request('GET', `/v1/documents/${doc.id}`, { token: alice })).status, 404);
      assert.equal((await download(t, alice, doc.id)).status, 404);
      assert.equal((await t.request('DELETE', `/v1/documents/${doc.id}`, { token: alice })).status, 404);
      assert.equal(await env.store.head(key), null, 'the blob went with the row');
    });

    it('round-trips a 5 MiB PDF byte for byte', async () => {
      const data = pdf(5 * MiB);
      const up = await uploadDoc(t, alice, { data });
      assert.equal(up.status, 201);
      assert.equal(up.json.size, data.length);
      assert.equal(up.json.sha256, sha256(data));
      const dl = await download(t, alice, up.json.id);
      assert.equal(dl.status, 200);
      assert.equal(dl.body.length, data.length);
      assert.ok(dl.body.equals(data));
    });

    it('sniffs PNG and JPEG content and names the download after it', async () => {
      const p = await uploadDoc(t, alice, { data: png(), name: 'plate', type: 'VehicleCustomImage', declaredType: 'image/png' });
      assert.equal(p.status, 201);
      assert.equal(p.json.ext, 'png');
      assert.equal(p.json.contentType, 'image/png');
      // A generic declared type does not contradict the bytes.
      const j = await uploadDoc(t, alice, { data: jpeg(), name: 'license.jpeg', type: 'DriversLicense', declaredType: 'application/octet-stream' });
      assert.equal(j.status, 201);
      assert.equal(j.json.ext, 'jpg');
      const dl = await download(t, alice, j.json.id);
      assert.equal(dl.headers.get('content-type'), 'image/jpeg');
      assert.match(dl.headers.get('content-disposition') ?? '', /filename\*=UTF-8''license\.jpeg$/);
    });

    it('serves single byte ranges with 206 and answers a range past the end with 416', async () => {
      const data = pdf(10_000);
      const { json: doc } = await uploadDoc(t, alice, { data });
      const first = await download(t, alice, doc.id, { range: 'bytes=0-3' });
      assert.equal(first.status, 206);
      assert.equal(first.body.toString('latin1'), '%PDF');
      assert.equal(first.headers.get('content-range'), `bytes 0-3/${data.length}`);
      assert.equal(first.headers.get('content-length'), '4');

      const suffix = await download(t, alice, doc.id, { range: 'bytes=-100' });
      assert.equal(suffix.status, 206);
      assert.ok(suffix.body.equals(data.subarray(data.length - 100)));

      const open = await download(t, alice, doc.id, { range: 'bytes=9990-' });
      assert.equal(open.status, 206);
      assert.ok(open.body.equals(data.subarray(9990)));

      const beyond = await download(t, alice, doc.id, { range: `bytes=${data.length}-` });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), `bytes */${data.length}`);
      assert.equal(JSON.parse(beyond.body.toString()).error, 'RANGE_NOT_SATISFIABLE');

      // Multi-range is allowed to be ignored (RFC 9110): the whole document.
      const multi = await download(t, alice, doc.id, { range: 'bytes=0-1,5-6' });
      assert.equal(multi.status, 200);
      assert.ok(multi.body.equals(data));
    });

    it('answers 304 when If-None-Match carries the ETag, and ignores Range when If-Range does not match', async () => {
      const data = pdf(3000);
      const { json: doc } = await uploadDoc(t, alice, { data });
      const etag = `"${doc.sha256}"`;
      const cached = await download(t, alice, doc.id, { 'if-none-match': etag });
      assert.equal(cached.status, 304);
      assert.equal(cached.body.length, 0);
      assert.equal(cached.headers.get('etag'), etag);
      assert.equal((await download(t, alice, doc.id, { 'if-none-match': '"other"' })).status, 200);

      const stale = await download(t, alice, doc.id, { range: 'bytes=0-3', 'if-range': '"stale"' });
      assert.equal(stale.status, 200);
      assert.ok(stale.body.equals(data));
      const fresh = await download(t, alice, doc.id, { range: 'bytes=0-3', 'if-range': etag });
      assert.equal(fresh.status, 206);
    });

    it("answers 404 on every route for another user's document, and lists only the caller's", async () => {
      const { json: doc } = await uploadDoc(t, alice, { name: 'alice only' });
      assert.equal((await t.request('GET', `/v1/documents/${doc.id}`, { token: bob })).status, 404);
      assert.equal((await download(t, bob, doc.id)).status, 404);
      assert.equal((await t.request('DELETE', `/v1/documents/${doc.id}`, { token: bob })).status, 404);
      const bobs = await t.request('GET', '/v1/documents', { token: bob });
      assert.ok(!bobs.json.some((d: any) => d.id === doc.id));
      // Still intact for its owner.
      assert.equal((await download(t, alice, doc.id)).status, 200);
    });

    it("refuses to link a document to another user's vehicle (404) and stores nothing", async () => {
      const bobsCar = await createVehicle(t, bob);
      const before = await listKeys(env.store);
      const r = await uploadDoc(t, alice, { userDeviceId: bobsCar });
      assert.equal(r.status, 404);
      assert.deepEqual(await listKeys(env.store), before);
      const mine = await createVehicle(t, alice);
      const ok = await uploadParts(t, alice, [
        ['userDeviceID', mine], // the original API's spelling, before the file
        ['file', { data: pdf() }],
        ['name', 'title'],
        ['type', 'VehicleTitle'],
      ]);
      assert.equal(ok.status, 201);
      assert.equal(ok.json.userDeviceId, mine);
    });

    it('rejects an executable renamed .pdf (415) and a file of the limit plus one byte (413), storing nothing', async () => {
      const before = await listKeys(env.store);
      const evil = await uploadDoc(t, alice, { data: exe(), declaredType: 'application/pdf' });
      assert.equal(evil.status, 415);
      assert.equal(evil.json.error, 'UNSUPPORTED_MEDIA_TYPE');
      const mismatch = await uploadDoc(t, alice, { data: pdf(), declaredType: 'image/png' });
      assert.equal(mismatch.status, 415);
      const big = await uploadDoc(t, alice, { data: pdf(10 * MiB + 1) });
      assert.equal(big.status, 413);
      assert.equal(big.json.error, 'PAYLOAD_TOO_LARGE');
      const exact = await uploadDoc(t, alice, { data: pdf(10 * MiB) });
      assert.equal(exact.status, 201, 'exactly the limit is allowed');
      const after = await listKeys(env.store);
      assert.deepEqual(after.filter((k) => !before.includes(k)), [keyOf(after, exact.json.id)]);
    });

    it('stores nothing when the client disconnects mid-upload', async () => {
      const before = await listKeys(env.store);
      const puts = observed.settledPuts() + 1;
      await abandonUpload(t, alice, pdf(6 * MiB), 2 * MiB);
      await observed.putsSettled(puts);
      assert.deepEqual(await listKeys(env.store), before);
    });

    it('keeps concurrent uploads by two users apart', async () => {
      const files = Array.from({ length: 8 }, (_, i) => pdf(256 * 1024 + i));
      const results = await Promise.all(files.map((data, i) => uploadDoc(t, i % 2 ? bob : alice, { data, name: `doc ${i}` })));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(201));
      for (const [i, r] of results.entries()) {
        const owner = i % 2 ? bob : alice;
        const other = i % 2 ? alice : bob;
        const dl = await download(t, owner, r.json.id);
        assert.ok(dl.body.equals(files[i]!), `document ${i} came back intact`);
        assert.equal((await download(t, other, r.json.id)).status, 404);
      }
    });
  });
}

function keyOf(keys: string[], id: string): string | undefined {
  return keys.find((k) => k.endsWith(`/${id}`));
}
