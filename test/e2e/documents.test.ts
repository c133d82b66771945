// Documents over HTTP beyond the per-driver suite: bad input of every kind, names, listing and
// pagination, vehicle deletion, quotas, and file handles (fs driver, where they can be counted).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { userKeySegment } from '../../src/domain/files/keys.ts';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { until } from '../helpers/eventually.ts';
import {
  abandonUpload,
  createVehicle,
  download,
  END,
  fileHead,
  MiB,
  observeStore,
  pdf,
  png,
  rawUpload,
  textPart,
  uploadDoc,
  uploadParts,
  type ObservedStore,
} from './documents-helpers.ts';

/** Every file under `dir`, temp files included. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** This process's open descriptors that point into `dir` (Linux; null elsewhere). */
async function openFilesUnder(dir: string): Promise<string[] | null> {
  let fds: string[];
  try {
    fds = await readdir('/proc/self/fd');
  } catch {
    return null;
  }
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((p) => p.startsWith(dir));
}

/** Waits (boundedly) for a condition the server reaches asynchronously, e.g. a closed handle. */
const eventually = (check: () => Promise<boolean>, what: string) => until(what, check, 5000, 25);

describe('documents over HTTP (fs store)', () => {
  let t: TestApp;
  let root: string;
  let observed: ObservedStore;
  let alice: string;
  let bob: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'documents-http-'));
    observed = observeStore(createFsBlobStore({ root }));
    t = await createTestApp({ deps: { blobStore: observed.store } });
    alice = await t.token('alice');
    bob = await t.token('bob');
  });
  after(async () => {
    await t.close();
    await rm(root, { recursive: true, force: true });
  });

  describe('bad input (each answers 4xx and stores nothing)', () => {
    let storedBefore: string[];
    const expect = async (r: Promise<{ status: number; json: any }>, status: number, message?: RegExp) => {
      const res = await r;
      assert.equal(res.status, status, JSON.stringify(res.json));
      if (message) assert.match(res.json.message, message);
      assert.deepEqual(await filesUnder(root), storedBefore, 'nothing stored');
    };
    before(async () => {
      storedBefore = await filesUnder(root);
    });

    it('rejects a form without a file part', () =>
      expect(uploadParts(t, alice, [['name', 'x'], ['type', 'Other']]), 400, /"file" is required/));
    it('rejects an empty file', () => expect(uploadDoc(t, alice, { data: Buffer.alloc(0) }), 400, /empty/));
    it('rejects a missing type', () => expect(uploadParts(t, alice, [['file', { data: pdf() }], ['name', 'x']]), 400, /"type" is required/));
    it('rejects an unknown type, naming the allowed ones', () =>
      expect(uploadDoc(t, alice, { type: 'Passport' }), 400, /one of DriversLicense, Other, VehicleTitle/));
    it('rejects a missing name', () => expect(uploadParts(t, alice, [['file', { data: pdf() }], ['type', 'Other']]), 400, /"name" is required/));
    it('rejects a name over 255 characters', () => expect(uploadDoc(t, alice, { name: 'a'.repeat(256) }), 400, /at most 255/));
    it('rejects a blank name', () => expect(uploadDoc(t, alice, { name: '   ' }), 400, /empty/));
    it('rejects names with control characters', async () => {
      await expect(uploadDoc(t, alice, { name: 'bad\u0007name' }), 400, /control/);
      await expect(uploadDoc(t, alice, { name: 'two\nlines' }), 400, /control/);
      await expect(uploadDoc(t, alice, { name: 'invoice\u202Efdp.exe' }), 400, /control/);
    });
    it('rejects a malformed or traversing userDeviceId before any lookup', async () => {
      await expect(uploadDoc(t, alice, { userDeviceId: '../../etc/passwd' }), 400, /userDeviceId/);
      await expect(uploadDoc(t, alice, { userDeviceId: '2' }), 400, /userDeviceId/);
    });
    it('answers 404 for a well-formed userDeviceId that is nobody’s vehicle', () =>
      expect(uploadDoc(t, alice, { userDeviceId: '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ' }), 404, /Device not found/));
    it('rejects disagreeing userDeviceId and userDeviceID', () =>
      expect(
        uploadParts(t, alice, [
          ['userDeviceId', '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ'],
          ['userDeviceID', '2YYYYYYYYYYYYYYYYYYYYYYYYYY'],
          ['file', { data: pdf() }],
          ['name', 'x'],
          ['type', 'Other'],
        ]),
        400,
        /disagree/,
      ));
    it('rejects repeated fields', async () => {
      await expect(uploadParts(t, alice, [['name', 'x'], ['name', 'y'], ['type', 'Other'], ['file', { data: pdf() }]]), 400, /more than once/);
    });
    it('rejects a second file and a file under another field name', async () => {
      await expect(uploadParts(t, alice, [['file', { data: pdf() }], ['file', { data: pdf() }], ['name', 'x'], ['type', 'Other']]), 400, /exactly one file/);
      await expect(uploadParts(t, alice, [['document', { data: pdf() }], ['name', 'x'], ['type', 'Other']]), 400, /send the document as "file"/);
    });
    it('rejects a body that is not multipart (415) or not well-formed multipart (400)', async () => {
      await expect(t.request('POST', '/v1/documents', { token: alice, body: { name: 'x', type: 'Other' } }), 415, /multipart\/form-data/);
      await expect(rawUpload(t, alice, 'x'.repeat(100), 'application/pdf'), 415);
      await expect(rawUpload(t, alice, textPart('name', 'x') + fileHead() + '%PDF-1.7 and then the body just stops'), 400, /malformed/);
      await expect(rawUpload(t, alice, 'no boundary here', 'multipart/form-data'), 400);
    });
    it('rejects a field that is far too long', () =>
      expect(rawUpload(t, alice, textPart('name', 'n'.repeat(10_000)) + textPart('type', 'Other') + fileHead() + '%PDF-1.7\r\n' + END), 400, /too long/));
    it('still stores nothing after all of the above', async () => {
      assert.deepEqual(await filesUnder(root), storedBefore);
    });
  });

  it('ignores unknown form fields: stored without them, never echoed', async () => {
    const r = await uploadParts(t, bob, [['file', { data: pdf() }], ['name', 'x'], ['tag', 'acc-xyz'], ['type', 'Other'], ['userId', 'alice']]);
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.doesNotMatch(JSON.stringify(r.json), /acc-xyz|userId/);
    assert.equal(r.json.userDeviceId, null);
  });

  it('keeps user text out of storage paths: traversal in the name, file name and ids goes nowhere', async () => {
    const r = await uploadParts(t, alice, [
      ['file', { data: pdf(), filename: '../../../../tmp/evil.pdf' }],
      ['name', '../../../etc/passwd'],
      ['type', 'Other'],
    ]);
    assert.equal(r.status, 201);
    assert.equal(r.json.name, '../../../etc/passwd');
    const stored = await filesUnder(root);
    assert.ok(stored.every((p) => p.startsWith(join(root, 'documents') + '/') && !p.includes('evil') && !p.includes('passwd')));
    assert.ok(stored.some((p) => p.endsWith(`/${r.json.id}`)));
    const dl = await download(t, alice, r.json.id);
    assert.equal(dl.headers.get('content-disposition'), `attachment; filename=".._.._.._etc_passwd.pdf"; filename*=UTF-8''..%2F..%2F..%2Fetc%2Fpasswd.pdf`);
    for (const path of ['/v1/documents/..%2F..%2Fetc%2Fpasswd', '/v1/documents/..%2F..%2Fx/download', '/v1/documents?userDeviceId=..%2Fx']) {
      const res = await t.request('GET', path, { token: alice });
      assert.ok(res.status === 400 || res.status === 404, `${path} → ${res.status}`);
    }
  });

  it('keeps non-ASCII names exact in the download file name', async () => {
    const { json: doc } = await uploadDoc(t, alice, { name: 'Insurance 2026 – café' });
    assert.equal(doc.name, 'Insurance 2026 – café');
    const dl = await download(t, alice, doc.id);
    assert.equal(
      dl.headers.get('content-disposition'),
      `attachment; filename="Insurance 2026 _ cafe.pdf"; filename*=UTF-8''Insurance%202026%20%E2%80%93%20caf%C3%A9.pdf`,
    );
    const long = await uploadDoc(t, alice, { name: '🚗'.repeat(255) });
    assert.equal(long.status, 201, '255 characters, counted as characters rather than bytes');
    const named = await uploadDoc(t, alice, { name: 'scan.PDF' });
    assert.match((await download(t, alice, named.json.id)).headers.get('content-disposition') ?? '', /filename\*=UTF-8''scan\.PDF$/);
  });

  it('lists newest first, pages with x-next-cursor, and filters by vehicle', async () => {
    const carol = await t.token('carol');
    const car = await createVehicle(t, carol);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await uploadDoc(t, carol, { name: `doc ${i}`, ...(i % 2 === 0 ? { userDeviceId: car } : {}) });
      assert.equal(r.status, 201);
      ids.push(r.json.id);
    }
    const all = await t.request('GET', '/v1/documents', { token: carol });
    assert.deepEqual(all.json.map((d: any) => d.id), [...ids].reverse());
    assert.equal(all.headers.get('x-next-cursor'), null);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await t.request('GET', `/v1/documents${q}`, { token: carol });
      assert.equal(page.status, 200);
      seen.push(...page.json.map((d: any) => d.id));
      cursor = page.headers.get('x-next-cursor');
      if (cursor) assert.match(page.headers.get('link') ?? '', /rel="next"/);
      pages += 1;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...ids].reverse());

    const forCar = await t.request('GET', `/v1/documents?userDeviceId=${car}`, { token: carol });
    assert.deepEqual(forCar.json.map((d: any) => d.id), [ids[4], ids[2], ids[0]]);
    const legacy = await t.request('GET', `/v1/documents?user_device_id=${car}`, { token: carol });
    assert.deepEqual(legacy.json, forCar.json);
    // Someone else filtering by carol's vehicle sees none of carol's documents.
    assert.deepEqual((await t.request('GET', `/v1/documents?userDeviceId=${car}`, { token: bob })).json, []);

    assert.equal((await t.request('GET', '/v1/documents?cursor=nonsense', { token: carol })).status, 400);
    assert.equal((await t.request('GET', '/v1/documents?limit=0', { token: carol })).status, 400);
    // Unknown query parameters (cache-busters, tags) are ignored.
    assert.deepEqual((await t.request('GET', '/v1/documents?colour=red&_=1700000000', { token: carol })).json, all.json);
  });

  it("keeps a vehicle's documents when the vehicle is deleted, with the link cleared", async () => {
    const dave = await t.token('dave');
    const car = await createVehicle(t, dave);
    const { json: doc } = await uploadDoc(t, dave, { userDeviceId: car, name: 'registration' });
    assert.equal(doc.userDeviceId, car);
    assert.equal((await t.request('DELETE', `/v1/user/devices/${car}`, { token: dave })).status, 204);
    const after = await t.request('GET', `/v1/documents/${doc.id}`, { token: dave });
    assert.equal(after.status, 200);
    assert.equal(after.json.userDeviceId, null);
    assert.equal((await download(t, dave, doc.id)).status, 200);
  });

  it('leaves no file handle or temp file behind when a client disconnects mid-upload', async (ctx) => {
    const before = await filesUnder(root);
    const puts = observed.settledPuts() + 1;
    await abandonUpload(t, alice, pdf(8 * MiB), 3 * MiB);
    await observed.putsSettled(puts);
    assert.deepEqual(await filesUnder(root), before, 'no blob and no temp file');
    const open = await openFilesUnder(root);
    if (open === null) return ctx.skip('no /proc/self/fd on this platform');
    assert.deepEqual(open, []);
  });

  it('closes the file when a client abandons a download', async (ctx) => {
    if ((await openFilesUnder(root)) === null) return ctx.skip('no /proc/self/fd on this platform');
    const { json: doc } = await uploadDoc(t, alice, { data: pdf(8 * MiB) });
    const ac = new AbortController();
    const res = await fetch(`${t.url}/v1/documents/${doc.id}/download`, { headers: { authorization: `Bearer ${alice}` }, signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => undefined);
    await eventually(async () => (await openFilesUnder(root))!.length === 0, 'the download stream released its file');
  });

  it('answers HEAD on a download with its headers and no body, releasing the file', async () => {
    const data = pdf(1 * MiB);
    const { json: doc } = await uploadDoc(t, alice, { data });
    const res = await fetch(`${t.url}/v1/documents/${doc.id}/download`, { method: 'HEAD', headers: { authorization: `Bearer ${alice}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.equal(res.headers.get('etag'), `"${doc.sha256}"`);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    if ((await openFilesUnder(root)) !== null) {
      await eventually(async () => (await openFilesUnder(root))!.length === 0, 'the HEAD request released its file');
    }
  });

  it('documents the routes in the OpenAPI document, the upload as multipart/form-data', async () => {
    const spec = (await t.request('GET', '/v1/openapi.json')).json;
    for (const p of ['/v1/documents', '/v1/documents/{documentId}', '/v1/documents/{documentId}/download']) assert.ok(spec.paths[p], p);
    assert.ok(spec.paths['/v1/documents'].post.requestBody.content['multipart/form-data']);
    assert.equal(spec.paths['/v1/documents'].post.responses['201'].content['application/json'].schema.$ref, '#/components/schemas/Document');
  });

  it('requires a token on every route', async () => {
    for (const [m, p] of [
      ['POST', '/v1/documents'],
      ['GET', '/v1/documents'],
      ['GET', '/v1/documents/2ZZZZZZZZZZZZZZZZZZZZZZZZZZ'],
      ['GET', '/v1/documents/2ZZZZZZZZZZZZZZZZZZZZZZZZZZ/download'],
      ['DELETE', '/v1/documents/2ZZZZZZZZZZZZZZZZZZZZZZZZZZ'],
    ] as const) {
      assert.equal((await t.request(m, p)).status, 401, `${m} ${p}`);
    }
  });
});

describe('document size limit and quota', () => {
  let t: TestApp;
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'documents-quota-'));
    t = await createTestApp({
      env: { DOCUMENT_MAX_BYTES: String(300_000), DOCUMENT_QUOTA_BYTES: String(500_000) },
      deps: { blobStore: createFsBlobStore({ root }) },
    });
  });
  after(async () => {
    await t.close();
    await rm(root, { recursive: true, force: true });
  });

  it('applies DOCUMENT_MAX_BYTES', async () => {
    const erin = await t.token('erin');
    assert.equal((await uploadDoc(t, erin, { data: png(300_001), declaredType: 'image/png' })).status, 413);
    assert.equal((await uploadDoc(t, erin, { data: png(300_000), declaredType: 'image/png' })).status, 201);
  });

  it('answers 413 once a user would exceed the quota, and stores nothing for it', async () => {
    const frank = await t.token('frank');
    assert.equal((await uploadDoc(t, frank, { data: pdf(250_000) })).status, 201);
    assert.equal((await uploadDoc(t, frank, { data: pdf(200_000) })).status, 201);
    const before = await filesUnder(root);
    const over = await uploadDoc(t, frank, { data: pdf(60_000) });
    assert.equal(over.status, 413);
    assert.match(over.json.message, /quota/);
    assert.deepEqual(await filesUnder(root), before);
    // Another user's quota is their own.
    assert.equal((await uploadDoc(t, await t.token('gina'), { data: pdf(250_000) })).status, 201);
    // Deleting frees space again.
    const list = await t.request('GET', '/v1/documents', { token: frank });
    assert.equal((await t.request('DELETE', `/v1/documents/${list.json[0].id}`, { token: frank })).status, 204);
    assert.equal((await uploadDoc(t, frank, { data: pdf(60_000) })).status, 201);
  });

  it('lets only one of two concurrent uploads take the last of the quota', async () => {
    const hana = await t.token('hana');
    const results = await Promise.all([uploadDoc(t, hana, { data: pdf(260_000) }), uploadDoc(t, hana, { data: pdf(260_000) })]);
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 413]);
    const list = await t.request('GET', '/v1/documents', { token: hana });
    assert.equal(list.json.length, 1);
    const hanas = await filesUnder(join(root, 'documents', userKeySegment('hana')));
    assert.deepEqual(hanas.map((p) => p.split('/').pop()), [list.json[0].id], 'the losing upload left no blob');
  });
});
