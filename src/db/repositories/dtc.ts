// Imported DTC titles (dtc_descriptions) and cached enrichment text (dtc_enrichments). Both key
// on (code, make) with make '' meaning every make; callers pass normalised makes or null.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { dtcDescriptions, dtcEnrichments } from '../schema.ts';

const makeKey = (make: string | null) => make ?? '';

export interface ImportedTitle {
  code: string;
  /** null for a title that applies to every make. */
  make: string | null;
  description: string;
}

/**
 * Imported titles for some codes, for all makes and for each of `makes`. Built once per
 * database, since every error-code submission asks; the lists are array parameters so one
 * statement serves several submissions at once.
 */
export function prepareTitlesFor(db: Db): (codes: string[], makes: Array<string | null>) => Promise<ImportedTitle[]> {
  const q = db
    .select({ code: dtcDescriptions.code, make: dtcDescriptions.make, description: dtcDescriptions.description })
    .from(dtcDescriptions)
    .where(and(sql`${dtcDescriptions.code} = any(${sql.placeholder('codes')})`, sql`${dtcDescriptions.make} = any(${sql.placeholder('makes')})`))
    .prepare('dtc_descriptions_titles_for');
  return async (codes, makes) => {
    if (codes.length === 0) return [];
    const rows = await q.execute({ codes, makes: [...new Set(['', ...makes.map(makeKey)])] });
    return rows.map((r) => ({ code: r.code, make: r.make === '' ? null : r.make, description: r.description }));
  };
}

/** Inserts or replaces titles; answers how many of them were new. */
export async function upsertTitles(db: Db | Tx, rows: ImportedTitle[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const result = await db
    .insert(dtcDescriptions)
    .values(rows.map((r) => ({ code: r.code, make: makeKey(r.make), description: r.description })))
    .onConflictDoUpdate({
      target: [dtcDescriptions.code, dtcDescriptions.make],
      set: { description: sql`excluded.description`, importedAt: sql`now()` },
    })
    // xmax is 0 on a freshly inserted row version and non-zero on one an upsert updated.
    .returning({ inserted: sql<boolean>`(xmax = 0)` });
  const inserted = result.filter((r) => r.inserted).length;
  return { inserted, updated: result.length - inserted };
}

export async function deleteAllTitles(db: Db | Tx): Promise<number> {
  const rows = await db.delete(dtcDescriptions).returning({ code: dtcDescriptions.code });
  return rows.length;
}

/** Cached explanations for these codes and make: code → text. */
export async function explanationsFor(db: Db | Tx, codes: string[], make: string | null): Promise<Map<string, string>> {
  if (codes.length === 0) return new Map();
  const rows = await db
    .select({ code: dtcEnrichments.code, text: dtcEnrichments.text })
    .from(dtcEnrichments)
    .where(and(inArray(dtcEnrichments.code, codes), eq(dtcEnrichments.make, makeKey(make))));
  return new Map(rows.map((r) => [r.code, r.text]));
}

export async function saveExplanation(db: Db | Tx, code: string, make: string | null, text: string): Promise<void> {
  await db
    .insert(dtcEnrichments)
    .values({ code, make: makeKey(make), text })
    .onConflictDoUpdate({ target: [dtcEnrichments.code, dtcEnrichments.make], set: { text, createdAt: sql`now()` } });
}
