// Fixed-window request counters keyed by caller, bounded in size so that many distinct IPs cannot
// grow memory without limit.

export interface RateWindowOptions {
  /** Length of one window. */
  windowMs: number;
  /** Most keys tracked; beyond it the window that started longest ago is dropped. */
  maxKeys: number;
}

export interface Hit {
  /** Hits of this key in its current window, this one included. */
  count: number;
  /** When the current window ends (epoch ms). */
  resetAtMs: number;
}

export interface RateWindows {
  /** Counts one hit of `key` at `nowMs`; the returned object is reused by the next call. */
  hit(key: string, nowMs: number): Readonly<Hit>;
  readonly size: number;
}

export function createRateWindows(opts: RateWindowOptions): RateWindows {
  // A Map iterates in insertion order, and a window is (re)inserted when it starts, so the first
  // key is always the window that started longest ago: eviction is O(1).
  const windows = new Map<string, Hit>();
  return {
    hit(key, nowMs) {
      const w = windows.get(key);
      if (w) {
        if (nowMs < w.resetAtMs) {
          w.count++;
          return w;
        }
        // Expired: the entry is reused, moved to the back as the newest window.
        windows.delete(key);
        w.count = 1;
        w.resetAtMs = nowMs + opts.windowMs;
        windows.set(key, w);
        return w;
      }
      if (windows.size >= opts.maxKeys) windows.delete(windows.keys().next().value as string);
      const fresh = { count: 1, resetAtMs: nowMs + opts.windowMs };
      windows.set(key, fresh);
      return fresh;
    },
    get size() {
      return windows.size;
    },
  };
}
