// The behaviour every BlobStore driver must have. Each driver's test file runs this suite
// against a real backend (a temp directory, an in-process S3-compatible server).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import {
  BlobNotFoundError,
  BlobRangeNotSatisfiableError,
  InvalidBlobKeyError,
} from '../../src/storage/blob-store.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { chunkedSource, collect, collectAsync, failingSource, MiB, pdfBytes, sha256 } from './helpers.ts';

export interface ContractFixture {
  readonly store: BlobStore;
  cleanup(): Promise<void>;
}

const PDF = { contentType: 'application/pdf' };

export function blobStoreContract(name: string, open: () => Promise<ContractFixture>): void {
  describe(`${name} blob store contract`, () => {
    let fx: ContractFixture;
    let store: BlobStore;
    before(async () => {
      fx = await open();
      store = fx.store;
    });
    after(async () => {
      await fx.cleanup();
    });

    it('round-trips a 5 MiB PDF byte for byte', async () => {
      const data = pdfBytes(5 * MiB);
      const { size } = await store.put('rt/five-mib', chunkedSource(data), PDF);
      assert.equal(size, data.length);
      const read = await store.get('rt/five-mib');
      assert.equal(read.size, data.length);
      assert.equal(read.contentLength, data.length);
      assert.equal(read.range, null);
      const back = await collect(read.stream);
      assert.equal(back.length, data.length);
      assert.equal(sha256(back), sha256(data));
      assert.ok(back.equals(data));
    });

    it('round-trips a file spanning several multipart parts', async () => {
      const data = pdfBytes(12 * MiB + 123);
      const { size } = await store.put('rt/twelve-mib', chunkedSource(data, 256 * 1024), PDF);
      assert.equal(size, data.length);
      assert.ok((await collect((await store.get('rt/twelve-mib')).stream)).equals(data));
    });

    it('stores an empty blob', async () => {
      assert.deepEqual(await store.put('rt/empty', Readable.from([]), PDF), { size: 0 });
      const read = await store.get('rt/empty');
      assert.equal(read.size, 0);
      assert.equal((await collect(read.stream)).length, 0);
    });

    it('reports size and modification time from head, and null for a missing key', async () => {
      const data = pdfBytes(1000);
      const before = Date.now();
      await store.put('head/one', Readable.from([data]), PDF);
      const info = await store.head('head/one');
      assert.ok(info);
      assert.equal(info.key, 'head/one');
      assert.equal(info.size, 1000);
      // Second resolution on some backends: allow the clock to have truncated.
      assert.ok(info.lastModified.getTime() >= before - 2000);
      assert.equal(await store.head('head/missing'), null);
    });

    it('throws BlobNotFoundError for a missing key', async () => {
      await assert.rejects(store.get('missing/blob'), BlobNotFoundError);
    });

    describe('range reads', () => {
      const data = pdfBytes(100_000);
      before(async () => {
        await store.put('range/blob', chunkedSource(data), PDF);
      });

      it('returns exactly the requested slice', async () => {
        const read = await store.get('range/blob', { start: 1000, end: 1999 });
        assert.deepEqual(read.range, { start: 1000, end: 1999 });
        assert.equal(read.size, data.length);
        assert.equal(read.contentLength, 1000);
        assert.ok((await collect(read.stream)).equals(data.subarray(1000, 2000)));
      });

      it('returns a single byte', async () => {
        const read = await store.get('range/blob', { start: 0, end: 0 });
        assert.ok((await collect(read.stream)).equals(data.subarray(0, 1)));
      });

      it('clamps an end past the last byte', async () => {
        const read = await store.get('range/blob', { start: 99_990, end: 10_000_000 });
        assert.deepEqual(read.range, { start: 99_990, end: 99_999 });
        assert.equal(read.contentLength, 10);
        assert.ok((await collect(read.stream)).equals(data.subarray(99_990)));
      });

      it('rejects a start at or past the end as unsatisfiable', async () => {
        await assert.rejects(store.get('range/blob', { start: 100_000, end: 100_010 }), BlobRangeNotSatisfiableError);
      });

      it('throws BlobNotFoundError for a range on a missing key', async () => {
        await assert.rejects(store.get('range/missing', { start: 0, end: 1 }), BlobNotFoundError);
      });
    });

    it('leaves nothing behind when the source fails midway', async () => {
      const boom = new Error('client went away');
      const data = pdfBytes(2 * MiB);
      await assert.rejects(store.put('fail/small', failingSource(data, MiB, boom), PDF), (err) => err === boom);
      assert.equal(await store.head('fail/small'), null);
      await assert.rejects(store.get('fail/small'), BlobNotFoundError);
      assert.deepEqual(await collectAsync(store.list('fail/')), []);
    });

    it('leaves nothing behind when the source fails after several parts were sent', async () => {
      const boom = new Error('client went away late');
      const data = pdfBytes(16 * MiB);
      await assert.rejects(
        store.put('fail/large', failingSource(data, 15 * MiB, boom, 256 * 1024), PDF),
        (err) => err === boom,
      );
      assert.equal(await store.head('fail/large'), null);
      assert.deepEqual(await collectAsync(store.list('fail/')), []);
    });

    it('keeps the previous content when a replacing upload fails', async () => {
      const original = pdfBytes(3000);
      await store.put('replace/failed', Readable.from([original]), PDF);
      const boom = new Error('dropped');
      await assert.rejects(store.put('replace/failed', failingSource(pdfBytes(MiB), 4096, boom), PDF));
      assert.ok((await collect((await store.get('replace/failed')).stream)).equals(original));
    });

    it('replaces content completely when the same key is written again', async () => {
      await store.put('replace/ok', Readable.from([pdfBytes(5000)]), PDF);
      const second = pdfBytes(10);
      await store.put('replace/ok', Readable.from([second]), PDF);
      const read = await store.get('replace/ok');
      assert.equal(read.size, 10);
      assert.ok((await collect(read.stream)).equals(second));
    });

    it('stores concurrent uploads to different keys independently', async () => {
      const blobs = [pdfBytes(300_000), pdfBytes(200_000), pdfBytes(100_000), pdfBytes(50_000)];
      await Promise.all(blobs.map((b, i) => store.put(`concurrent/${i}`, chunkedSource(b), PDF)));
      for (const [i, b] of blobs.entries()) {
        assert.ok((await collect((await store.get(`concurrent/${i}`)).stream)).equals(b));
      }
    });

    it('deletes idempotently', async () => {
      await store.put('del/one', Readable.from([pdfBytes(10)]), PDF);
      await store.delete('del/one');
      assert.equal(await store.head('del/one'), null);
      await store.delete('del/one');
      await store.delete('del/never-existed');
      await assert.rejects(store.get('del/one'), BlobNotFoundError);
    });

    it('lists keys by prefix with size and modification time', async () => {
      const keys = ['list/a/1', 'list/a/2', 'list/a/sub/3', 'list/ab/4', 'list/b/5'];
      for (const k of keys) await store.put(k, Readable.from([pdfBytes(7)]), PDF);
      const listed = async (prefix: string): Promise<string[]> =>
        (await collectAsync(store.list(prefix))).map((b) => b.key).sort();

      assert.deepEqual(await listed('list/a/'), ['list/a/1', 'list/a/2', 'list/a/sub/3']);
      assert.deepEqual(await listed('list/a'), ['list/a/1', 'list/a/2', 'list/a/sub/3', 'list/ab/4']);
      assert.deepEqual(await listed('list/'), [...keys].sort());
      assert.deepEqual(await listed('list/a/su'), ['list/a/sub/3']);
      assert.deepEqual(await listed('list/nothing/'), []);
      assert.deepEqual(await listed('no-such-top/'), []);
      const [first] = await collectAsync(store.list('list/b/'));
      assert.ok(first);
      assert.equal(first.size, 7);
      assert.ok(first.lastModified instanceof Date && !Number.isNaN(first.lastModified.getTime()));
    });

    it('does not list a deleted key', async () => {
      await store.put('listdel/x', Readable.from([pdfBytes(7)]), PDF);
      await store.put('listdel/y', Readable.from([pdfBytes(7)]), PDF);
      await store.delete('listdel/x');
      assert.deepEqual((await collectAsync(store.list('listdel/'))).map((b) => b.key), ['listdel/y']);
    });

    describe('refuses keys that are not plain server-built paths', () => {
      const bad = ['', '../escape', 'a/../../b', '/absolute', 'a//b', 'a/', '.hidden', 'a/.tmp', 'a\\b', 'a b', 'é'];
      for (const key of bad) {
        it(`refuses ${JSON.stringify(key)} on every operation`, async () => {
          const source = Readable.from([pdfBytes(10)]);
          await assert.rejects(store.put(key, source, PDF), InvalidBlobKeyError);
          assert.ok(source.destroyed, 'the refused source is released');
          await assert.rejects(store.get(key), InvalidBlobKeyError);
          await assert.rejects(store.head(key), InvalidBlobKeyError);
          await assert.rejects(store.delete(key), InvalidBlobKeyError);
        });
      }

      it('refuses a list prefix that climbs out', async () => {
        await assert.rejects(collectAsync(store.list('../')), InvalidBlobKeyError);
      });
    });

    it('answers ping when reachable', async () => {
      await store.ping();
    });
  });
}
