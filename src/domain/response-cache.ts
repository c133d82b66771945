// Serialized responses kept per caller and URL, dropped when a table they were read from changes.
//
// Invalidation is by epoch: every change bumps a counter and records it per table; an entry
// remembers the counter at the time its read began and is stale once any of its tables moved
// past that. A read that overlaps a change (began before, finished after) is not stored at all,
// so a slow read can never put pre-change data back after the change was announced.

export interface ResponseCacheOptions<V> {
  /** Upper bound on the stored values' total size (as `sizeOf` counts); the oldest go first. */
  maxBytes: number;
  sizeOf(value: V): number;
  /** Upper bound on an entry's age: a safety net for changes no notification reports (e.g. time passing). */
  ttlMs: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  bytes: number;
  owner: string;
  tables: readonly string[];
  /** The epoch when the read that produced it began. */
  since: number;
  expiresAt: number;
}

/** Taken when a read begins; hand it back to `set` so overlapping changes are detected. */
export type ReadStamp = number;

export interface ResponseCache<V> {
  get(key: string): V | undefined;
  begin(): ReadStamp;
  /** `ttlMs` shortens the default age bound for this entry. */
  set(key: string, owner: string, tables: readonly string[], value: V, stamp: ReadStamp, ttlMs?: number): void;
  /** A table changed (`*`: anything may have changed, e.g. notifications were missed). */
  tableChanged(table: string): void;
  /** Drops every entry of one caller (its own write, answered before the table notification arrives). */
  ownerChanged(owner: string): void;
  readonly size: number;
  readonly bytes: number;
}

export function createResponseCache<V>(opts: ResponseCacheOptions<V>): ResponseCache<V> {
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry<V>>(); // insertion order = age, for eviction
  const keysByOwner = new Map<string, Set<string>>();
  const tableEpochs = new Map<string, number>();
  let epoch = 0;
  let bytes = 0;

  function drop(key: string, e: Entry<V>) {
    entries.delete(key);
    bytes -= e.bytes;
    const keys = keysByOwner.get(e.owner);
    if (keys) {
      keys.delete(key);
      if (keys.size === 0) keysByOwner.delete(e.owner);
    }
  }

  function clear() {
    entries.clear();
    keysByOwner.clear();
    tableEpochs.clear();
    bytes = 0;
  }

  function stale(e: Entry<V>): boolean {
    if (e.expiresAt <= now()) return true;
    for (const t of e.tables) if ((tableEpochs.get(t) ?? 0) > e.since) return true;
    return false;
  }

  return {
    get(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      if (stale(e)) {
        drop(key, e);
        return undefined;
      }
      return e.value;
    },
    begin: () => epoch,
    set(key, owner, tables, value, stamp, ttlMs) {
      if (stamp !== epoch || opts.maxBytes <= 0) return;
      const size = opts.sizeOf(value);
      if (size > opts.maxBytes) return;
      const old = entries.get(key);
      if (old) drop(key, old);
      entries.set(key, { value, bytes: size, owner, tables, since: stamp, expiresAt: now() + Math.min(ttlMs ?? opts.ttlMs, opts.ttlMs) });
      bytes += size;
      let keys = keysByOwner.get(owner);
      if (!keys) keysByOwner.set(owner, (keys = new Set()));
      keys.add(key);
      for (const [k, e] of entries) {
        if (bytes <= opts.maxBytes) break;
        drop(k, e);
      }
    },
    tableChanged(table) {
      epoch++;
      if (table === '*') clear();
      else tableEpochs.set(table, epoch);
    },
    ownerChanged(owner) {
      epoch++;
      const keys = keysByOwner.get(owner);
      if (!keys) return;
      for (const k of [...keys]) drop(k, entries.get(k)!);
    },
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
