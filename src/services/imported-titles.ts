// Imported DTC titles (`devices-api dtc import`) as every error-code submission needs them: kept
// in memory per (code, make) for `ttlMs`, so a submission of codes seen recently reads nothing,
// and the misses of concurrent submissions go to the database in one statement. An import
// reaches new submissions within `ttlMs`: it is written by the CLI, another process.
import type { Db } from '../db/engine.ts';
import * as dtcRepo from '../db/repositories/dtc.ts';
import { createBatcher } from '../domain/batcher.ts';
import { normaliseMake, type DtcOverrides } from '../domain/dtc/index.ts';

export interface ImportedTitlesDeps {
  db: Db;
  ttlMs: number;
  /** Most (code, make) pairs kept, found or not; past it everything is dropped and read again. */
  capacity: number;
  now?: () => number;
}

export interface ImportedTitles {
  /** Imported titles for these base codes, for every make and for `make`, to look up synchronously. */
  overridesFor(bases: string[], make: string | null): Promise<DtcOverrides>;
}

const key = (base: string, make: string | null) => (make === null ? base : `${base}\t${make}`);

export function createImportedTitles(deps: ImportedTitlesDeps): ImportedTitles {
  const now = deps.now ?? Date.now;
  const titlesFor = dtcRepo.prepareTitlesFor(deps.db);
  // An absent title is kept too: most codes have none, and those must not cost a query each time.
  // A plain map dropped whole when full: a hit is one Map lookup per code, where an LRU's
  // bookkeeping cost as much as the rest of the lookup.
  const cache = new Map<string, { title: string | undefined; expiresAt: number }>();
  const keep = (k: string, title: string | undefined, expiresAt: number) => {
    if (cache.size >= deps.capacity) cache.clear();
    cache.set(k, { title, expiresAt });
  };

  const load = createBatcher(
    async (asks: Array<{ bases: string[]; make: string | null }>): Promise<Array<Map<string, string>>> => {
      const bases = asks.length === 1 ? asks[0]!.bases : [...new Set(asks.flatMap((a) => a.bases))];
      const titles = await titlesFor(bases, asks.map((a) => a.make));
      // Keyed by (code, make), so one map answers every submission of the batch.
      const found = new Map(titles.map((t) => [key(t.code, t.make), t.description]));
      const expiresAt = now() + deps.ttlMs;
      for (const { bases: asked, make } of asks) {
        for (const base of asked) {
          keep(key(base, null), found.get(key(base, null)), expiresAt);
          if (make !== null) keep(key(base, make), found.get(key(base, make)), expiresAt);
        }
      }
      return asks.map(() => found);
    },
    { maxBatch: 100, maxInFlight: 3 },
  );

  return {
    async overridesFor(bases, rawMake) {
      const make = normaliseMake(rawMake);
      const t = now();
      const known = new Map<string, string | undefined>();
      const remember = (k: string) => {
        const hit = cache.get(k);
        if (hit === undefined || t >= hit.expiresAt) return false;
        known.set(k, hit.title);
        return true;
      };
      const missing = bases.filter((base) => !remember(key(base, null)) || (make !== null && !remember(key(base, make))));
      if (missing.length > 0) {
        const found = await load({ bases: missing, make });
        for (const base of missing) {
          known.set(key(base, null), found.get(key(base, null)));
          if (make !== null) known.set(key(base, make), found.get(key(base, make)));
        }
      }
      return (base, m) => known.get(key(base, m));
    },
  };
}
