// Imports DTC titles (parsed from a TSV by the domain) into dtc_descriptions: one transaction,
// so a failure half way leaves the previous titles untouched; upserts in batches to stay well
// under PostgreSQL's bind-parameter limit.
import type { Db } from '../db/engine.ts';
import * as dtcRepo from '../db/repositories/dtc.ts';
import type { DtcImportRow } from '../domain/dtc/index.ts';

export const DEFAULT_IMPORT_BATCH = 1000;

export interface DtcImportOptions {
  /** Delete every previously imported title first (the file becomes the whole set). */
  replace?: boolean;
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface DtcImportSummary {
  rows: number;
  inserted: number;
  updated: number;
  /** Previously imported titles deleted by `replace`. */
  removed: number;
}

export async function importDtcTitles(db: Db, rows: readonly DtcImportRow[], opts: DtcImportOptions = {}): Promise<DtcImportSummary> {
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_IMPORT_BATCH);
  return db.transaction(async (tx) => {
    const removed = opts.replace ? await dtcRepo.deleteAllTitles(tx) : 0;
    let inserted = 0;
    let updated = 0;
    for (let i = 0; i < rows.length; i += batchSize) {
      const batch = rows.slice(i, i + batchSize);
      const r = await dtcRepo.upsertTitles(tx, batch.map((row) => ({ code: row.code, make: row.make, description: row.description })));
      inserted += r.inserted;
      updated += r.updated;
      opts.onProgress?.(Math.min(i + batchSize, rows.length), rows.length);
    }
    return { rows: rows.length, inserted, updated, removed };
  });
}
