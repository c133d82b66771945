import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';
import {
  ingestUpload,
  IngestMeter,
  peekHead,
  TooLargeError,
  UnsupportedTypeError,
} from '../../src/storage/ingest.ts';
import { openFauxS3Store } from './fauxqs-server.ts';
import { chunkedSource, collect, collectAsync, failingSource, MiB, pdfBytes, sha256 } from './helpers.ts';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);

function withMagic(magic: Buffer, size: number): Buffer {
  const buf = pdfBytes(size);
  magic.copy(buf, 0);
  return buf;
}

/** Counts put calls, to show that rejected content never reaches the store. */
function spyingStore(inner: BlobStore): BlobStore & { puts: number } {
  const spy = {
    ...inner,
    puts: 0,
    put: (...args: Parameters<BlobStore['put']>) => {
      spy.puts += 1;
      return inner.put(...args);
    },
  };
  return spy;
}

interface Driver {
  readonly name: string;
  open(): Promise<{ store: BlobStore; root?: string; cleanup: () => Promise<void> }>;
}

const drivers: Driver[] = [
  {
    name: 'fs',
    async open() {
      const root = await mkdtemp(join(tmpdir(), 'ingest-fs-'));
      return { store: createFsBlobStore({ root }), root, cleanup: () => rm(root, { recursive: true, force: true }) };
    },
  },
  {
    name: 's3',
    open: openFauxS3Store,
  },
];

for (const driver of drivers) {
  describe(`ingestUpload into the ${driver.name} store`, () => {
    let store: BlobStore & { puts: number };
    let root: string | undefined;
    let cleanup: () => Promise<void>;
    let n = 0;
    const key = (): string => `ingest/doc-${++n}`;

    before(async () => {
      const opened = await driver.open();
      store = spyingStore(opened.store);
      root = opened.root;
      cleanup = opened.cleanup;
    });
    after(async () => {
      await cleanup();
    });

    async function assertNothingStored(k: string): Promise<void> {
      assert.equal(await store.head(k), null);
      if (root) {
        // No temp file either, anywhere under the root.
        const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
        const leftovers = files.map((e) => e.name).filter((name) => name.startsWith('.'));
        assert.deepEqual(leftovers, []);
      }
    }

    it('stores a 5 MiB PDF and reports its size, type and SHA-256', async () => {
      const data = pdfBytes(5 * MiB);
      const k = key();
      const result = await ingestUpload({ store, key: k, source: chunkedSource(data), maxBytes: 10 * MiB });
      assert.deepEqual(result, { size: data.length, sha256: sha256(data), contentType: 'application/pdf', ext: 'pdf' });
      assert.ok((await collect((await store.get(k)).stream)).equals(data));
    });

    it('recognises PNG and JPEG from their bytes', async () => {
      for (const [magic, contentType, ext] of [
        [PNG_MAGIC, 'image/png', 'png'],
        [JPEG_MAGIC, 'image/jpeg', 'jpg'],
      ] as const) {
        const data = withMagic(magic, 70_000);
        const result = await ingestUpload({ store, key: key(), source: chunkedSource(data, 4096), maxBytes: MiB });
        assert.equal(result.contentType, contentType);
        assert.equal(result.ext, ext);
        assert.equal(result.sha256, sha256(data));
      }
    });

    it('sniffs a signature split across one-byte chunks', async () => {
      const data = withMagic(PNG_MAGIC, 20);
      const k = key();
      const result = await ingestUpload({ store, key: k, source: chunkedSource(data, 1), maxBytes: MiB });
      assert.equal(result.contentType, 'image/png');
      assert.ok((await collect((await store.get(k)).stream)).equals(data));
    });

    it('stores a file shorter than the sniffing window intact', async () => {
      const data = Buffer.from('%PDF-');
      const k = key();
      const result = await ingestUpload({ store, key: k, source: Readable.from([data]), maxBytes: MiB });
      assert.equal(result.size, 5);
      assert.ok((await collect((await store.get(k)).stream)).equals(data));
    });

    it('accepts a file of exactly the size limit', async () => {
      const data = pdfBytes(256 * 1024);
      const k = key();
      const result = await ingestUpload({ store, key: k, source: chunkedSource(data, 1000), maxBytes: data.length });
      assert.equal(result.size, data.length);
      assert.ok(await store.head(k));
    });

    it('rejects a file one byte over the limit and stores nothing', async () => {
      const data = pdfBytes(256 * 1024 + 1);
      const k = key();
      const source = chunkedSource(data, 1000);
      await assert.rejects(
        ingestUpload({ store, key: k, source, maxBytes: data.length - 1 }),
        (err) => err instanceof TooLargeError && err.statusCode === 413 && err.maxBytes === data.length - 1,
      );
      assert.ok(source.destroyed, 'the upload stream is released');
      await assertNothingStored(k);
    });

    it('rejects a large upload once it passes the limit, across multipart parts', async () => {
      const data = pdfBytes(12 * MiB);
      const k = key();
      await assert.rejects(
        ingestUpload({ store, key: k, source: chunkedSource(data, 256 * 1024), maxBytes: 11 * MiB }),
        TooLargeError,
      );
      await assertNothingStored(k);
    });

    it('rejects an executable without touching the store', async () => {
      const exe = withMagic(Buffer.from([0x4d, 0x5a, 0x90, 0x00]), 50_000);
      const k = key();
      const putsBefore = store.puts;
      const source = chunkedSource(exe);
      await assert.rejects(
        ingestUpload({ store, key: k, source, maxBytes: MiB, declaredType: 'application/pdf' }),
        (err) => err instanceof UnsupportedTypeError && err.reason === 'unrecognised' && err.statusCode === 415,
      );
      assert.equal(store.puts, putsBefore);
      assert.ok(source.destroyed);
      await assertNothingStored(k);
    });

    it('rejects an empty upload as unsupported', async () => {
      await assert.rejects(ingestUpload({ store, key: key(), source: Readable.from([]), maxBytes: MiB }), UnsupportedTypeError);
    });

    it('rejects content that contradicts the declared type', async () => {
      const k = key();
      const putsBefore = store.puts;
      await assert.rejects(
        ingestUpload({ store, key: k, source: Readable.from([pdfBytes(1000)]), maxBytes: MiB, declaredType: 'image/png' }),
        (err) =>
          err instanceof UnsupportedTypeError &&
          err.reason === 'mismatch' &&
          err.detected === 'application/pdf' &&
          err.declared === 'image/png',
      );
      assert.equal(store.puts, putsBefore);
      await assertNothingStored(k);
    });

    it('accepts a generic or aliased declared type', async () => {
      const jpeg = withMagic(JPEG_MAGIC, 1000);
      for (const declaredType of ['application/octet-stream', 'image/jpg', 'IMAGE/JPEG; charset=binary']) {
        const r = await ingestUpload({ store, key: key(), source: Readable.from([jpeg]), maxBytes: MiB, declaredType });
        assert.equal(r.contentType, 'image/jpeg');
      }
    });

    it('passes on the source error when the client fails midway, storing nothing', async () => {
      const boom = new Error('connection reset');
      const k = key();
      await assert.rejects(
        ingestUpload({ store, key: k, source: failingSource(pdfBytes(2 * MiB), MiB, boom), maxBytes: 10 * MiB }),
        (err) => err === boom,
      );
      await assertNothingStored(k);
    });

    it('passes on the source error when it fails before the type is known', async () => {
      const boom = new Error('reset early');
      await assert.rejects(
        ingestUpload({ store, key: key(), source: failingSource(pdfBytes(100), 3, boom, 1), maxBytes: MiB }),
        (err) => err === boom,
      );
    });

    it('stores nothing when the source is destroyed without an error', async () => {
      const k = key();
      const data = pdfBytes(MiB);
      let sent = 0;
      const source = new Readable({
        read() {
          setImmediate(() => {
            if (sent >= 300_000) {
              this.destroy();
              return;
            }
            this.push(data.subarray(sent, sent + 65536));
            sent += 65536;
          });
        },
      });
      await assert.rejects(ingestUpload({ store, key: k, source, maxBytes: 10 * MiB }));
      await assertNothingStored(k);
    });

    it('stores nothing when an HTTP client disconnects mid-upload', async () => {
      const k = key();
      const data = pdfBytes(4 * MiB);
      const fdsBefore = await openFds();
      let settle!: (outcome: unknown) => void;
      const outcome = new Promise((resolve) => (settle = resolve));
      let putStarted!: () => void;
      const storing = new Promise<void>((resolve) => (putStarted = resolve));
      const watched: BlobStore = {
        ...store,
        put: (...args) => {
          putStarted();
          return store.put(...args);
        },
      };
      const server = createServer((req) => {
        ingestUpload({ store: watched, key: k, source: req, maxBytes: 10 * MiB }).then(
          () => settle('stored'),
          (err: unknown) => settle(err),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': data.length } });
        req.on('error', () => undefined); // the abort below
        req.write(data.subarray(0, MiB));
        await storing; // the type was accepted and bytes are flowing into the store
        req.destroy();
        const result = await outcome;
        assert.ok(result instanceof Error, `expected a failure, got ${String(result)}`);
        await assertNothingStored(k);
        assert.deepEqual(await collectAsync(store.list(k)), []);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      if (fdsBefore !== null && driver.name === 'fs') assert.equal(await openFds(), fdsBefore, 'no leaked descriptors');
    });
  });
}

describe('IngestMeter', () => {
  it('counts and hashes what passes through', async () => {
    const data = pdfBytes(300_000);
    const meter = new IngestMeter(data.length);
    const out = await collect(chunkedSource(data, 7777).pipe(meter));
    assert.ok(out.equals(data));
    assert.equal(meter.bytes, data.length);
    assert.equal(meter.digest(), sha256(data));
  });
});

describe('peekHead', () => {
  it('returns the first bytes and a stream that still yields everything', async () => {
    const data = pdfBytes(100_000);
    const { head, body } = await peekHead(chunkedSource(data, 3), 8);
    assert.ok(head.length >= 8);
    assert.ok(head.equals(data.subarray(0, head.length)));
    assert.ok((await collect(body)).equals(data));
  });

  it('returns everything when the stream is shorter than asked', async () => {
    const { head, body } = await peekHead(Readable.from([Buffer.from('abc')]), 8);
    assert.equal(head.toString(), 'abc');
    assert.equal((await collect(body)).toString(), 'abc');
  });
});

// Linux exposes the process's open descriptors; elsewhere the check is skipped.
async function openFds(): Promise<number | null> {
  return existsSync('/proc/self/fd') ? (await readdir('/proc/self/fd')).length : null;
}
