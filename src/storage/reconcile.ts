// Removes blobs no database row points to: left by a process that died between storing a blob
// and committing its row, or between deleting a row and deleting its blob.
import type { BlobStore } from './blob-store.ts';

export interface RemoveOrphansOptions {
  readonly store: BlobStore;
  /** Only keys under this prefix are considered (e.g. `DOCUMENTS_PREFIX`). */
  readonly prefix: string;
  /** Which of `keys` the database still references (one query per batch, not per blob). */
  knownKeys(keys: readonly string[]): Promise<ReadonlySet<string>>;
  /**
   * Blobs modified at or after this instant are left alone: an upload in progress stores its
   * blob before its row commits, so a young blob without a row is not yet an orphan.
   */
  readonly olderThan: Date;
  readonly batchSize?: number;
}

export interface RemoveOrphansResult {
  readonly scanned: number;
  readonly deleted: readonly string[];
}

export async function removeOrphanBlobs(opts: RemoveOrphansOptions): Promise<RemoveOrphansResult> {
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const deleted: string[] = [];
  let scanned = 0;
  let batch: string[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const known = await opts.knownKeys(batch);
    for (const key of batch) {
      if (known.has(key)) continue;
      await opts.store.delete(key);
      deleted.push(key);
    }
    batch = [];
  };

  for await (const blob of opts.store.list(opts.prefix)) {
    scanned += 1;
    if (blob.lastModified >= opts.olderThan) continue;
    batch.push(blob.key);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return { scanned, deleted };
}
