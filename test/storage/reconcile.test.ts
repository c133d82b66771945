import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { removeOrphanBlobs } from '../../src/storage/reconcile.ts';
import { collectAsync } from './helpers.ts';

describe('removeOrphanBlobs', () => {
  let root: string;
  let store: BlobStore;
  const HOUR_AGO = new Date(Date.now() - 3600_000);
  const DAY_AGO = new Date(Date.now() - 86_400_000);

  async function putAged(key: string, at: Date): Promise<void> {
    await store.put(key, Readable.from([Buffer.from('%PDF-')]), { contentType: 'application/pdf' });
    await utimes(join(root, ...key.split('/')), at, at);
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'reconcile-'));
    store = createFsBlobStore({ root });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('deletes old unreferenced blobs and keeps referenced, young and out-of-prefix ones', async () => {
    await putAged('documents/u/referenced', DAY_AGO);
    await putAged('documents/u/orphan1', DAY_AGO);
    await putAged('documents/v/orphan2', DAY_AGO);
    await putAged('documents/u/young', new Date());
    await putAged('images/old', DAY_AGO);
    const lookups: string[][] = [];

    const result = await removeOrphanBlobs({
      store,
      prefix: 'documents/',
      olderThan: HOUR_AGO,
      batchSize: 2,
      knownKeys: async (keys) => {
        lookups.push([...keys]);
        return new Set(keys.filter((k) => k === 'documents/u/referenced'));
      },
    });

    assert.equal(result.scanned, 4);
    assert.deepEqual([...result.deleted].sort(), ['documents/u/orphan1', 'documents/v/orphan2']);
    assert.ok(lookups.every((batch) => batch.length <= 2), 'lookups are batched');
    const remaining = (await collectAsync(store.list(''))).map((b) => b.key).sort();
    assert.deepEqual(remaining, ['documents/u/referenced', 'documents/u/young', 'images/old']);
  });

  it('does nothing when every blob is referenced', async () => {
    const result = await removeOrphanBlobs({
      store,
      prefix: 'documents/',
      olderThan: new Date(),
      knownKeys: async (keys) => new Set(keys),
    });
    assert.deepEqual(result.deleted, []);
  });
});
