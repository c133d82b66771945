// Operator metrics of the API beside the HTTP ones (the workers' are in chain/worker-monitor.ts):
// documents stored, and where DTC titles come from.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DtcLookupSource } from '../services/error-codes.ts';

/**
 * documents_stored_bytes / documents_stored: read from the database when scraped, at most once per
 * `ttlMs` (a sum over every document; a scrape every 15 s must not be a table scan every 15 s).
 */
export function registerDocumentGauges(registry: Registry, totals: () => Promise<{ count: number; bytes: number }>, ttlMs = 60_000, now = Date.now): void {
  let cached: { at: number; value: Promise<{ count: number; bytes: number }> } | null = null;
  const read = () => {
    if (!cached || now() - cached.at >= ttlMs) {
      const value = totals();
      cached = { at: now(), value };
      // A failed read is not kept: the next scrape asks again.
      value.catch(() => {
        if (cached?.value === value) cached = null;
      });
    }
    return cached.value;
  };
  const gauge = (name: string, help: string, pick: (t: { count: number; bytes: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        // The database did not answer: the last value stays (stored bytes change slowly).
        await read().then((t) => this.set(pick(t)), () => {});
      },
    });
  gauge('documents_stored_bytes', 'Bytes of every stored document (blobs in DATA_DIR/blobs or S3)', (t) => t.bytes);
  gauge('documents_stored', 'Number of stored documents', (t) => t.count);
}

/** dtc_lookups_total{source}: one per submitted code by its title's source, plus one per explanation served. */
export function createDtcLookupCounter(registry: Registry): (source: DtcLookupSource) => void {
  const counter = new Counter({ name: 'dtc_lookups_total', help: 'DTC descriptions served, by source (imported_make, imported, bundled, structure, enrichment)', labelNames: ['source'] as const, registers: [registry] });
  // Every source shows from the start (0), so a rate over it is defined before the first lookup.
  for (const source of ['imported_make', 'imported', 'bundled', 'structure', 'enrichment'] as const) counter.inc({ source }, 0);
  return (source) => counter.inc({ source });
}
