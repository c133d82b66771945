// Repairs what an interrupted upload or delete leaves behind, so the database and the blob store
// agree again: finishes hidden ('deleting') rows, removes blobs no row points to, and sweeps the
// fs driver's temp files. Every step is idempotent, so replicas may run it at the same time.
import type { Db } from '../db/engine.ts';
import * as repo from '../db/repositories/documents.ts';
import { DOCUMENTS_PREFIX } from '../domain/files/keys.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { removeOrphanBlobs } from '../storage/reconcile.ts';
import { runPeriodically, type PeriodicTask } from '../lib/periodic.ts';

/**
 * A blob younger than this is left alone even without a row: its upload may still be writing
 * the row. Generous, because an S3 object's time can be when its (long) upload started.
 */
export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60 * 1000;

export type ReconcileProgress =
  | { step: 'deletes'; finished: number }
  | { step: 'orphans'; scanned: number; deleted: number }
  | { step: 'temp-files'; removed: number };

export interface ReconcileDeps {
  db: Db;
  store: BlobStore;
  graceMs?: number;
  /** Removes temp files older than the given time (fs driver only); returns how many. */
  sweepTempFiles?: (olderThan: Date) => Promise<number>;
  onProgress?: (p: ReconcileProgress) => void;
  now?: () => Date;
}

export interface ReconcileReport {
  finishedDeletes: number;
  blobsScanned: number;
  orphanBlobsDeleted: number;
  tempFilesRemoved: number;
}

const BATCH = 500;

export async function reconcileDocuments(deps: ReconcileDeps): Promise<ReconcileReport> {
  const { db, store } = deps;
  const now = deps.now ?? (() => new Date());
  const olderThan = new Date(now().getTime() - (deps.graceMs ?? DEFAULT_ORPHAN_GRACE_MS));

  // Blob first, then row: if this stops half-way the row is still there to retry from.
  let finishedDeletes = 0;
  for (;;) {
    const rows = await repo.listDeleting(db, BATCH);
    for (const row of rows) {
      await store.delete(row.blobKey);
      await repo.deleteDocumentRow(db, row.id);
      finishedDeletes += 1;
    }
    if (rows.length < BATCH) break;
  }
  deps.onProgress?.({ step: 'deletes', finished: finishedDeletes });

  const orphans = await removeOrphanBlobs({
    store,
    prefix: DOCUMENTS_PREFIX,
    olderThan,
    knownKeys: (keys) => repo.knownBlobKeys(db, keys),
  });
  deps.onProgress?.({ step: 'orphans', scanned: orphans.scanned, deleted: orphans.deleted.length });

  const tempFilesRemoved = deps.sweepTempFiles ? await deps.sweepTempFiles(olderThan) : 0;
  if (deps.sweepTempFiles) deps.onProgress?.({ step: 'temp-files', removed: tempFilesRemoved });

  return { finishedDeletes, blobsScanned: orphans.scanned, orphanBlobsDeleted: orphans.deleted.length, tempFilesRemoved };
}

export type PeriodicReconciler = PeriodicTask;

/** Runs `reconcileDocuments` every `intervalMs` (first run after one interval), never overlapping. */
export function startPeriodicReconciler(
  deps: ReconcileDeps & { intervalMs: number; log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void } },
): PeriodicReconciler {
  return runPeriodically(
    deps.intervalMs,
    async () => {
      const report = await reconcileDocuments(deps);
      if (report.finishedDeletes || report.orphanBlobsDeleted || report.tempFilesRemoved) deps.log.info({ report }, 'documents reconciled');
    },
    (err) => deps.log.warn({ err }, 'document reconciliation failed; retrying next interval'),
  );
}
