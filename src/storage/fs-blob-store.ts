// Local-directory blob store (embedded mode). Writes go to a temp file in the target's own
// directory, are fsynced, then renamed over the key: rename within one filesystem is atomic, so
// a reader or a crash never sees half a file.
import { randomUUID } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { once } from 'node:events';
import { access, mkdir, open, opendir, readdir, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertValidBlobKey,
  assertValidBlobPrefix,
  BlobNotFoundError,
  BlobRangeNotSatisfiableError,
  InvalidBlobKeyError,
} from './blob-store.ts';
import type { BlobInfo, BlobRead, BlobStore, ByteRange, PutOptions } from './blob-store.ts';

export interface FsBlobStoreOptions {
  /** Directory holding every blob; created on first write. */
  readonly root: string;
}

// Temp files start with a dot: valid keys never do, so listings and keys cannot collide with them.
const TEMP_SUFFIX = '.tmp';
// Chunk size of file reads, and how much a write stream gathers (into one writev) while its
// previous write runs. At the streams' 16–64 KiB defaults a 50 MiB document costs ~800 thread-pool
// round trips each way, most of a download's CPU.
const IO_CHUNK = 1024 * 1024;

export function createFsBlobStore(options: FsBlobStoreOptions): BlobStore {
  const root = resolve(options.root);

  function pathOf(key: string): string {
    assertValidBlobKey(key);
    const p = resolve(root, ...key.split('/'));
    // Unreachable with a valid key; kept so no future key rule change can escape the root.
    if (!p.startsWith(root + sep)) throw new InvalidBlobKeyError(key);
    return p;
  }

  async function put(key: string, source: Readable, _opts: PutOptions): Promise<{ size: number }> {
    let target: string;
    try {
      target = pathOf(key);
    } catch (err) {
      source.destroy();
      throw err;
    }
    const dir = dirname(target);
    const temp = join(dir, `.${basename(target)}.${randomUUID()}${TEMP_SUFFIX}`);
    let out: WriteStream | undefined;
    try {
      await mkdir(dir, { recursive: true });
      // `flush` fsyncs before close, and pipeline waits for the close: durable before visible,
      // otherwise a crash after the rename could leave an empty file under a key the database
      // already points to.
      out = createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: IO_CHUNK });
      await pipeline(source, out);
      await rename(temp, target);
      await syncDir(dir);
      return { size: out.bytesWritten };
    } catch (err) {
      source.destroy();
      if (out && !out.closed) {
        out.destroy();
        await once(out, 'close').catch(() => undefined); // release the descriptor before returning
      }
      await rm(temp, { force: true });
      throw err;
    }
  }

  async function get(key: string, range?: ByteRange): Promise<BlobRead> {
    const path = pathOf(key);
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      throw isMissing(err) ? new BlobNotFoundError(key) : err;
    }
    try {
      // Size from the open handle, so a concurrent replace cannot mismatch size and bytes.
      const st = await fh.stat();
      if (!st.isFile()) throw new BlobNotFoundError(key);
      const size = st.size;
      let slice: ByteRange | null = null;
      if (range) {
        if (range.start >= size || range.start > range.end) throw new BlobRangeNotSatisfiableError(key, size);
        slice = { start: range.start, end: Math.min(range.end, size - 1) };
      }
      const contentLength = slice ? slice.end - slice.start + 1 : size;
      // autoClose (the default) closes the handle when the stream ends, errors or is destroyed.
      // Big reads for big files (each chunk is one read and one socket write); a small file gets one
      // read of its own size, not a buffer of IO_CHUNK.
      const highWaterMark = Math.min(IO_CHUNK, Math.max(contentLength, 1));
      const stream = fh.createReadStream({ highWaterMark, ...(slice ? { start: slice.start, end: slice.end } : {}) });
      return { stream, size, range: slice, contentLength };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  async function head(key: string): Promise<BlobInfo | null> {
    try {
      const st = await stat(pathOf(key));
      return st.isFile() ? { key, size: st.size, lastModified: st.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async function remove(key: string): Promise<void> {
    // Empty directories are left: removing them could race a concurrent put into the same one.
    await rm(pathOf(key), { force: true });
  }

  async function* list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidBlobPrefix(prefix);
    // Start at the deepest directory the prefix pins down; filter the rest by string prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    yield* walk(base === '' ? root : resolve(root, ...base.split('/')), base, prefix);
  }

  async function* walk(dir: string, rel: string, prefix: string): AsyncIterable<BlobInfo> {
    let entries;
    try {
      entries = await opendir(dir);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    for await (const entry of entries) {
      if (entry.name.startsWith('.')) continue; // temp files
      const key = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        const asPrefix = `${key}/`;
        if (asPrefix.startsWith(prefix) || prefix.startsWith(asPrefix)) yield* walk(full, key, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const st = await stat(full);
          yield { key, size: st.size, lastModified: st.mtime };
        } catch (err) {
          if (!isMissing(err)) throw err; // deleted while listing: simply not there
        }
      }
    }
  }

  async function ping(): Promise<void> {
    await mkdir(root, { recursive: true });
    await access(root, constants.R_OK | constants.W_OK);
  }

  return {
    driver: 'fs',
    put,
    get,
    head,
    delete: remove,
    list,
    ping,
    close: async () => undefined,
  };
}

/**
 * Deletes temp files older than `olderThan` under `root`: what a process killed mid-upload
 * leaves behind (a live process removes its own). Returns how many were removed.
 */
export async function sweepFsTempFiles(rootDir: string, olderThan: Date): Promise<number> {
  const root = resolve(rootDir);
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return 0;
    throw err;
  }
  let removed = 0;
  for (const e of entries) {
    if (!e.isFile() || !e.name.startsWith('.') || !e.name.endsWith(TEMP_SUFFIX)) continue;
    const full = join(e.parentPath, e.name);
    try {
      if ((await stat(full)).mtime >= olderThan) continue;
      await rm(full, { force: true });
      removed += 1;
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return removed;
}

// Makes a rename durable. Best effort: some platforms cannot open or fsync a directory.
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // The file itself is already durable; only the rename's durability is at stake.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
