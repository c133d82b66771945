// Crash consistency: failures injected between the blob write and the row write (upload), and
// between hiding, blob removal and row removal (delete). Users must never see a row without
// bytes, and the reconciler must bring the store and the database back into agreement.
// The only doubles here are wrappers that fail on command; everything else is real.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/engine.ts';
import { documents } from '../../src/db/schema.ts';
import { DOCUMENTS_PREFIX } from '../../src/domain/files/keys.ts';
import { reconcileDocuments } from '../../src/services/document-reconciler.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { openFauxS3Store } from '../storage/fauxqs-server.ts';
import { download, listKeys, pdf, uploadDoc } from './documents-helpers.ts';

interface Faults {
  /** The database refuses to start the transaction that writes a document row. */
  rowWrite: boolean;
  /** The database refuses to delete rows. */
  rowDelete: boolean;
  /** The blob store refuses to delete blobs. */
  blobDelete: boolean;
}

function faultyDb(db: Db, faults: Faults): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'transaction' && faults.rowWrite) return () => Promise.reject(new Error('injected: database gone before the row was written'));
      if (prop === 'delete' && faults.rowDelete) {
        return () => {
          throw new Error('injected: database gone before the row was deleted');
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function faultyStore(store: BlobStore, faults: Faults): BlobStore {
  return {
    ...store,
    delete: async (key) => {
      if (faults.blobDelete) throw new Error('injected: blob store unreachable');
      return store.delete(key);
    },
  };
}

const drivers: { name: string; open(): Promise<{ store: BlobStore; cleanup(): Promise<void> }> }[] = [
  {
    name: 'fs',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'documents-crash-'));
      return { store: createFsBlobStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3',
    open: openFauxS3Store,
  },
];

for (const driver of drivers) {
  describe(`documents crash consistency (${driver.name} blob store)`, () => {
    const faults: Faults = { rowWrite: false, rowDelete: false, blobDelete: false };
    let t: TestApp;
    let database: TestDatabase;
    let store: BlobStore;
    let cleanup: () => Promise<void>;
    let alice: string;
    // Reconcile as if a second has passed, with no grace: every orphan so far qualifies.
    const reconcileNow = (graceMs = 0) => reconcileDocuments({ db: database.db, store, graceMs, now: () => new Date(Date.now() + 1000) });
    const rowState = async (id: string) => (await database.db.select().from(documents).where(eq(documents.id, id)))[0]?.state ?? null;

    before(async () => {
      const opened = await driver.open();
      store = opened.store;
      cleanup = () => opened.cleanup();
      database = await createTestDatabase();
      t = await createTestApp({
        deps: { database: { ...database, db: faultyDb(database.db, faults) }, blobStore: faultyStore(store, faults) },
      });
      alice = await t.token('alice');
    });
    after(async () => {
      await t.close();
      await database.destroy();
      await cleanup();
    });
    const reset = () => Object.assign(faults, { rowWrite: false, rowDelete: false, blobDelete: false });

    it('removes the blob again when the row cannot be written', async () => {
      const before = await listKeys(store);
      faults.rowWrite = true;
      const r = await uploadDoc(t, alice);
      reset();
      assert.equal(r.status, 500);
      assert.deepEqual((await t.request('GET', '/v1/documents', { token: alice })).json, []);
      assert.deepEqual(await listKeys(store), before);
    });

    it('leaves only an invisible orphan blob when the process could not clean up, which the reconciler removes', async () => {
      const before = await listKeys(store);
      faults.rowWrite = true;
      faults.blobDelete = true; // as if the process died right after storing the blob
      const r = await uploadDoc(t, alice);
      reset();
      assert.equal(r.status, 500);
      assert.deepEqual((await t.request('GET', '/v1/documents', { token: alice })).json, [], 'no row was ever visible');
      const orphans = (await listKeys(store)).filter((k) => !before.includes(k));
      assert.equal(orphans.length, 1);
      assert.ok(orphans[0]!.startsWith(DOCUMENTS_PREFIX));

      const young = await reconcileDocuments({ db: database.db, store });
      assert.equal(young.orphanBlobsDeleted, 0, 'a blob younger than the grace period may be an upload in flight');
      const report = await reconcileNow();
      assert.equal(report.orphanBlobsDeleted, 1);
      assert.deepEqual(await listKeys(store), before);
    });

    it('hides a document whose blob could not be deleted, and the reconciler finishes the delete', async () => {
      const { json: doc } = await uploadDoc(t, alice, { name: 'to delete' });
      const keysWithDoc = await listKeys(store);
      faults.blobDelete = true;
      const del = await t.request('DELETE', `/v1/documents/${doc.id}`, { token: alice });
      reset();
      assert.equal(del.status, 204);
      assert.equal((await t.request('GET', `/v1/documents/${doc.id}`, { token: alice })).status, 404);
      assert.equal((await download(t, alice, doc.id)).status, 404);
      assert.ok(!(await t.request('GET', '/v1/documents', { token: alice })).json.some((d: any) => d.id === doc.id));
      assert.equal(await rowState(doc.id), 'deleting');
      assert.deepEqual(await listKeys(store), keysWithDoc, 'the bytes are still there until reconciled');

      const report = await reconcileNow();
      assert.equal(report.finishedDeletes, 1);
      assert.equal(await rowState(doc.id), null);
      assert.ok(!(await listKeys(store)).some((k) => k.endsWith(doc.id)));
    });

    it('hides a document whose row could not be deleted after its blob went, and the reconciler removes the row', async () => {
      const { json: doc } = await uploadDoc(t, alice, { name: 'half deleted' });
      faults.rowDelete = true;
      const del = await t.request('DELETE', `/v1/documents/${doc.id}`, { token: alice });
      reset();
      assert.equal(del.status, 204);
      assert.equal((await t.request('GET', `/v1/documents/${doc.id}`, { token: alice })).status, 404);
      assert.equal((await download(t, alice, doc.id)).status, 404, 'a hidden row is never served without its bytes');
      assert.equal(await rowState(doc.id), 'deleting');
      assert.ok(!(await listKeys(store)).some((k) => k.endsWith(doc.id)));

      assert.equal((await reconcileNow()).finishedDeletes, 1);
      assert.equal(await rowState(doc.id), null);
    });

    it('leaves documents that are whole untouched', async () => {
      const data = pdf(50_000);
      const { json: doc } = await uploadDoc(t, alice, { data, name: 'keeper' });
      const report = await reconcileNow();
      assert.deepEqual([report.finishedDeletes, report.orphanBlobsDeleted], [0, 0]);
      const dl = await download(t, alice, doc.id);
      assert.equal(dl.status, 200);
      assert.ok(dl.body.equals(data));
    });
  });
}
