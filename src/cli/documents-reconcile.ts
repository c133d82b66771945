// `devices-api documents reconcile`: one reconciliation pass (the server also runs it every
// DOCUMENT_RECONCILE_INTERVAL_MS), reporting each step on stderr; the exit code says whether it worked.
import { DEFAULT_ORPHAN_GRACE_MS, reconcileDocuments, type ReconcileDeps, type ReconcileProgress } from '../services/document-reconciler.ts';

export interface Output {
  write(s: string): unknown;
}

export interface DocumentsReconcileCliDeps {
  /** Opens the configured database and blob store. */
  open(): Promise<{ deps: ReconcileDeps; describe: string; close(): Promise<void> }>;
  stderr: Output;
}

export function describeProgress(p: ReconcileProgress): string {
  switch (p.step) {
    case 'deletes':
      return `finished ${p.finished} interrupted deletion${p.finished === 1 ? '' : 's'}`;
    case 'orphans':
      return `scanned ${p.scanned} blob${p.scanned === 1 ? '' : 's'}, removed ${p.deleted} without a document`;
    case 'temp-files':
      return `removed ${p.removed} temp file${p.removed === 1 ? '' : 's'} left by interrupted uploads`;
  }
}

export async function runDocumentsReconcile(opts: { graceMs?: number }, deps: DocumentsReconcileCliDeps): Promise<number> {
  const { stderr } = deps;
  const graceMs = opts.graceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  const started = Date.now();
  let opened: Awaited<ReturnType<DocumentsReconcileCliDeps['open']>> | undefined;
  try {
    opened = await deps.open();
    stderr.write(`documents reconcile: ${opened.describe}; blobs younger than ${Math.round(graceMs / 1000)} s are left alone\n`);
    await reconcileDocuments({
      ...opened.deps,
      graceMs,
      onProgress: (p) => stderr.write(`documents reconcile: ${describeProgress(p)}\n`),
    });
    stderr.write(`documents reconcile: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } catch (e) {
    stderr.write(`documents reconcile: failed (safe to run again): ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await opened?.close();
  }
}
