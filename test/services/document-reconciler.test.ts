import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runDocumentsReconcile } from '../../src/cli/documents-reconcile.ts';
import * as repo from '../../src/db/repositories/documents.ts';
import { documents } from '../../src/db/schema.ts';
import { documentBlobKey } from '../../src/domain/files/keys.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import {
  reconcileDocuments,
  startPeriodicReconciler,
  type ReconcileProgress,
} from '../../src/services/document-reconciler.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore, sweepFsTempFiles } from '../../src/storage/fs-blob-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const DAY_AGO = new Date(Date.now() - 86_400_000);

describe('document reconciler', () => {
  let database: TestDatabase;
  let root: string;
  let store: BlobStore;

  before(async () => {
    database = await createTestDatabase();
    root = await mkdtemp(join(tmpdir(), 'doc-reconcile-'));
    store = createFsBlobStore({ root });
  });
  after(async () => {
    await database.destroy();
    await rm(root, { recursive: true, force: true });
  });

  async function blob(key: string, at?: Date): Promise<void> {
    await store.put(key, Readable.from([Buffer.from('%PDF-1.7')]), { contentType: 'application/pdf' });
    if (at) await utimes(join(root, ...key.split('/')), at, at);
  }

  async function row(userId: string, state: 'ready' | 'deleting', opts: { withBlob?: boolean } = {}): Promise<repo.DocumentRow> {
    const id = newKsuid();
    const blobKey = documentBlobKey(userId, id);
    if (opts.withBlob ?? true) await blob(blobKey, DAY_AGO);
    return repo.insertDocument(database.db, {
      id,
      userId,
      name: 'n',
      type: 'Other',
      ext: 'pdf',
      contentType: 'application/pdf',
      size: 8,
      sha256: '0'.repeat(64),
      blobKey,
      state,
    });
  }

  const exists = async (id: string) => (await database.db.select().from(documents).where(eq(documents.id, id))).length === 1;

  it('finishes interrupted deletions, removes old orphans, and keeps live, young and foreign blobs', async () => {
    const live = await row('u1', 'ready');
    const stuck = await row('u1', 'deleting');
    const stuckWithoutBlob = await row('u2', 'deleting', { withBlob: false });
    const oldOrphan = documentBlobKey('u2', newKsuid());
    const youngOrphan = documentBlobKey('u2', newKsuid());
    await blob(oldOrphan, DAY_AGO);
    await blob(youngOrphan);
    await blob('images/unrelated', DAY_AGO);
    const progress: ReconcileProgress[] = [];

    const report = await reconcileDocuments({ db: database.db, store, onProgress: (p) => progress.push(p) });

    assert.deepEqual(report, { finishedDeletes: 2, blobsScanned: 3, orphanBlobsDeleted: 1, tempFilesRemoved: 0 });
    assert.deepEqual(progress.map((p) => p.step), ['deletes', 'orphans']);
    assert.equal(await exists(live.id), true);
    assert.equal(await exists(stuck.id), false);
    assert.equal(await exists(stuckWithoutBlob.id), false);
    assert.ok(await store.head(live.blobKey));
    assert.equal(await store.head(stuck.blobKey), null);
    assert.equal(await store.head(oldOrphan), null);
    assert.ok(await store.head(youngOrphan), 'may belong to an upload still writing its row');
    assert.ok(await store.head('images/unrelated'), 'outside the documents prefix');

    const again = await reconcileDocuments({ db: database.db, store });
    assert.deepEqual([again.finishedDeletes, again.orphanBlobsDeleted], [0, 0], 'a second pass has nothing to do');
  });

  it('sweeps temp files an interrupted fs upload left, once they are older than the grace period', async () => {
    const dir = join(root, 'documents', 'abc');
    await mkdir(dir, { recursive: true });
    const old = join(dir, '.x.1.tmp');
    const fresh = join(dir, '.y.2.tmp');
    await writeFile(old, 'partial');
    await writeFile(fresh, 'partial');
    await utimes(old, DAY_AGO, DAY_AGO);
    const progress: ReconcileProgress[] = [];
    const report = await reconcileDocuments({
      db: database.db,
      store,
      sweepTempFiles: (olderThan) => sweepFsTempFiles(root, olderThan),
      onProgress: (p) => progress.push(p),
    });
    assert.equal(report.tempFilesRemoved, 1);
    assert.deepEqual(progress.at(-1), { step: 'temp-files', removed: 1 });
    await rm(fresh);
  });

  it('runs periodically, survives a failed run, and stops cleanly', async () => {
    let failNext = true;
    const flaky: BlobStore = {
      ...store,
      list: (prefix) => {
        if (failNext) {
          failNext = false;
          throw new Error('injected: store unreachable');
        }
        return store.list(prefix);
      },
    };
    const warnings: string[] = [];
    const stuck = await row('u3', 'deleting');
    const periodic = startPeriodicReconciler({
      db: database.db,
      store: flaky,
      intervalMs: 10,
      log: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) },
    });
    try {
      for (let i = 0; i < 400 && (await exists(stuck.id)); i++) await new Promise((r) => setTimeout(r, 25));
      // The first run finished the deletion before its orphan scan failed; wait for a clean run too.
      for (let i = 0; i < 400 && failNext; i++) await new Promise((r) => setTimeout(r, 25));
    } finally {
      await periodic.stop();
    }
    assert.equal(await exists(stuck.id), false);
    assert.ok(warnings.some((w) => /failed; retrying/.test(w)), 'the failed run was logged');
  });
});

describe('devices-api documents reconcile (CLI)', () => {
  let database: TestDatabase;
  let root: string;
  before(async () => {
    database = await createTestDatabase();
    root = await mkdtemp(join(tmpdir(), 'doc-reconcile-cli-'));
  });
  after(async () => {
    await database.destroy();
    await rm(root, { recursive: true, force: true });
  });

  it('reports each step and exits 0', async () => {
    let out = '';
    let closed = false;
    const code = await runDocumentsReconcile(
      { graceMs: 60_000 },
      {
        stderr: { write: (s: string) => (out += s) },
        open: async () => ({
          deps: { db: database.db, store: createFsBlobStore({ root }), sweepTempFiles: (d) => sweepFsTempFiles(root, d) },
          describe: 'test database',
          close: async () => {
            closed = true;
          },
        }),
      },
    );
    assert.equal(code, 0);
    assert.ok(closed);
    assert.match(out, /test database; blobs younger than 60 s are left alone/);
    assert.match(out, /finished 0 interrupted deletions/);
    assert.match(out, /scanned 0 blobs, removed 0 without a document/);
    assert.match(out, /removed 0 temp files/);
    assert.match(out, /done in/);
  });

  it('exits 1 with the reason when it cannot open its dependencies', async () => {
    let out = '';
    const code = await runDocumentsReconcile(
      {},
      {
        stderr: { write: (s: string) => (out += s) },
        open: () => Promise.reject(new Error('data directory is locked by a running server')),
      },
    );
    assert.equal(code, 1);
    assert.match(out, /failed \(safe to run again\): data directory is locked/);
  });
});
