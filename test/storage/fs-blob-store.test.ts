import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { BlobNotFoundError } from '../../src/storage/blob-store.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore, sweepFsTempFiles } from '../../src/storage/fs-blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { chunkedSource, collect, collectAsync, failingSource, MiB, pdfBytes } from './helpers.ts';

blobStoreContract('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'blob-fs-contract-'));
  return {
    store: createFsBlobStore({ root: join(root, 'blobs') }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

/** Every file name under `dir`, recursively, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1)).sort();
}

describe('fs blob store on disk', () => {
  let root: string;
  let store: BlobStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'blob-fs-'));
    store = createFsBlobStore({ root });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps each blob as one file at its key path', async () => {
    await store.put('documents/u1/doc1', Readable.from([Buffer.from('%PDF-x')]), { contentType: 'application/pdf' });
    assert.deepEqual(await filesUnder(root), [join('documents', 'u1', 'doc1')]);
  });

  it('leaves no temp file when the source fails midway', async () => {
    await assert.rejects(
      store.put('tmpcheck/doc', failingSource(pdfBytes(2 * MiB), MiB, new Error('gone')), { contentType: 'application/pdf' }),
    );
    assert.deepEqual(await filesUnder(join(root, 'tmpcheck')), []);
  });

  it('does not list temp files of uploads in progress', async () => {
    await mkdir(join(root, 'inflight'), { recursive: true });
    await writeFile(join(root, 'inflight', '.doc.1234.tmp'), 'partial');
    await writeFile(join(root, 'inflight', 'done'), 'complete');
    assert.deepEqual((await collectAsync(store.list('inflight/'))).map((b) => b.key), ['inflight/done']);
  });

  it('sweeps temp files left by a crashed upload, sparing young ones and blobs', async () => {
    const dir = join(root, 'sweep', 'u');
    await mkdir(dir, { recursive: true });
    const old = new Date(Date.now() - 86_400_000);
    await writeFile(join(dir, '.doc.dead.tmp'), 'partial');
    await utimes(join(dir, '.doc.dead.tmp'), old, old);
    await writeFile(join(dir, '.doc.live.tmp'), 'in progress');
    await store.put('sweep/u/doc', Readable.from([Buffer.from('%PDF-')]), { contentType: 'application/pdf' });
    await utimes(join(dir, 'doc'), old, old);

    assert.equal(await sweepFsTempFiles(root, new Date(Date.now() - 3600_000)), 1);
    assert.deepEqual((await readdir(dir)).sort(), ['.doc.live.tmp', 'doc']);
    assert.equal(await sweepFsTempFiles(join(root, 'does-not-exist'), new Date()), 0);
  });

  it('treats a directory at a key as missing', async () => {
    await mkdir(join(root, 'dirkey', 'sub'), { recursive: true });
    await assert.rejects(store.get('dirkey/sub'), BlobNotFoundError);
    assert.equal(await store.head('dirkey/sub'), null);
  });

  it('reads a large blob in 1 MiB chunks, a range too, and a small blob in one chunk of its size', async () => {
    const chunkSizes = async (read: Promise<{ stream: Readable }>) => {
      const sizes: number[] = [];
      for await (const chunk of (await read).stream) sizes.push((chunk as Buffer).length);
      return sizes;
    };
    const data = pdfBytes(3 * MiB + 5);
    await store.put('chunks/large', chunkedSource(data), { contentType: 'application/pdf' });
    assert.deepEqual(await chunkSizes(store.get('chunks/large')), [MiB, MiB, MiB, 5]);
    assert.deepEqual(await chunkSizes(store.get('chunks/large', { start: 10, end: 10 + MiB + 99 })), [MiB, 100]);
    await store.put('chunks/small', Readable.from([pdfBytes(10)]), { contentType: 'application/pdf' });
    assert.deepEqual(await chunkSizes(store.get('chunks/small')), [10]);
  });

  it('closes the file when a reader abandons a download', { skip: !hasProcFds() }, async () => {
    await store.put('abandon/doc', Readable.from([pdfBytes(4 * MiB)]), { contentType: 'application/pdf' });
    const before = await openFds();
    const read = await store.get('abandon/doc');
    assert.equal(await openFds(), before + 1, 'the download holds one descriptor');
    read.stream.read(1024);
    read.stream.destroy();
    await new Promise((resolve) => read.stream.once('close', resolve));
    assert.equal(await openFds(), before);
  });

  it('closes the temp file when an upload fails', { skip: !hasProcFds() }, async () => {
    const before = await openFds();
    await assert.rejects(
      store.put('fdcheck/doc', failingSource(pdfBytes(MiB), 300_000, new Error('gone')), { contentType: 'application/pdf' }),
    );
    assert.equal(await openFds(), before);
  });

  it('creates its root directory when pinged', async () => {
    const fresh = createFsBlobStore({ root: join(root, 'fresh', 'blobs') });
    await fresh.ping();
    assert.deepEqual(await readdir(join(root, 'fresh')), ['blobs']);
  });

  it('fails ping when the root cannot be a directory', async () => {
    await writeFile(join(root, 'a-file'), 'x');
    const broken = createFsBlobStore({ root: join(root, 'a-file', 'blobs') });
    await assert.rejects(broken.ping());
  });

  it('reads through a symlinked root', async () => {
    const real = join(root, 'real-root');
    await mkdir(real);
    await symlink(real, join(root, 'link-root'));
    const linked = createFsBlobStore({ root: join(root, 'link-root') });
    await linked.put('k/v', Readable.from([Buffer.from('%PDF-link')]), { contentType: 'application/pdf' });
    assert.equal((await collect((await linked.get('k/v')).stream)).toString(), '%PDF-link');
  });
});

// Linux exposes the process's descriptors; elsewhere the descriptor checks are skipped.
function hasProcFds(): boolean {
  return existsSync('/proc/self/fd');
}

async function openFds(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}
