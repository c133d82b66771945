// The pause between a worker's ticks, which other parts of the process can cut short (a request
// was just enqueued, a transaction just settled). A wake-up that comes while the worker is busy
// ticking ends its next pause instead: the tick may have looked before the change was committed.

export interface WakeableSleep {
  /** Resolves after `ms`, at the next wake(), or at once if a wake() came since the last pause. */
  sleep: (ms: number) => Promise<void>;
  wake: () => void;
}

export function createWakeableSleep(): WakeableSleep {
  let ring: (() => void) | undefined;
  let pending = false;
  return {
    sleep(ms) {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          ring = undefined;
          resolve();
        }
        ring = done;
      });
    },
    wake() {
      if (ring) ring();
      else pending = true;
    },
  };
}
