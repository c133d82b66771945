// A bounded read-through cache whose entries expire: for answers that other processes may change
// (the chain worker, other replicas), where a short age bound is the whole freshness guarantee.

import { LRUCache } from 'lru-cache';

export interface TtlCacheOptions {
  /** Most entries kept; the least recently used go first. */
  capacity: number;
  ttlMs: number;
  now?: () => number;
}

export interface TtlCache<V> {
  /**
   * The value for `key`: cached if younger than the TTL, else from `load`. Concurrent misses
   * share one load, so an expiry under load costs one query, not one per waiting request.
   * A null (not found) or a failed load is not kept: the next call asks again. A kept value
   * that has arrived is answered as it is, not in a promise, so a hit costs no microtask hop.
   * `beforeLoad` runs just before a load, never for a kept value; a throw refuses the lookup
   * (callers charge a rate limit there) and keeps nothing.
   */
  get(key: string, load: () => Promise<V | null>, beforeLoad?: () => void): V | Promise<V | null>;
  readonly size: number;
}

export function createTtlCache<V>(opts: TtlCacheOptions): TtlCache<V> {
  const now = opts.now ?? Date.now;
  const entries = new LRUCache<string, { value: Promise<V | null>; expiresAt: number; arrived?: V }>({ max: opts.capacity });
  return {
    get(key, load, beforeLoad) {
      const t = now();
      const hit = entries.get(key);
      if (hit && t < hit.expiresAt) return hit.arrived ?? hit.value;
      beforeLoad?.();
      const entry: { value: Promise<V | null>; expiresAt: number; arrived?: V } = { value: load(), expiresAt: t + opts.ttlMs };
      entries.set(key, entry);
      const forget = () => {
        if (entries.get(key) === entry) entries.delete(key);
      };
      entry.value.then((v) => (v === null ? forget() : (entry.arrived = v)), forget);
      return entry.value;
    },
    get size() {
      return entries.size;
    },
  };
}
