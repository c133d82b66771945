// The background loop both chain workers (relayer, indexer) run: tick, pause or go on, and after a
// failure back off (exponentially) or, while the RPC or the database is down, probe it until it
// answers. start/stop/wake and the health the /ready checks read live here once; each worker
// supplies its tick and its log lines.
import { createWakeableSleep } from './wakeable-sleep.ts';
import { createWorkerHealth, waitAfterFailure, type FailureKind, type WorkerHealthSnapshot } from './worker-health.ts';

export interface WorkerLoopOptions<R> {
  tick: () => Promise<R>;
  /** The pause after a good tick; 0 ticks again at once (work is waiting). */
  pauseAfter: (result: R) => number;
  /** The first back-off after a failure (it doubles per failure up to `maxBackoffMs`). */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** While a component is unavailable, `probe` it this often; the loop resumes as soon as it answers. */
  probeIntervalMs: number;
  probe: (component: 'chain' | 'database') => Promise<unknown>;
  /** The first good tick after failed ones; `was` is the health before it. */
  onRecovered: (was: WorkerHealthSnapshot) => void;
  onFailed: (err: unknown, kind: FailureKind & { first: boolean }) => void;
}

export interface WorkerLoop {
  /** Runs ticks in the background until stop(). */
  start: () => void;
  /** Finishes the current tick and stops. */
  stop: () => Promise<void>;
  /** Ends the current pause early, or the next one if a tick is running. */
  wake: () => void;
  /** The last tick's failure (null after a good tick). */
  lastError: () => Error | null;
  health: () => WorkerHealthSnapshot;
}

/** A worker as its owner sees it: the loop's controls plus one tick on demand. */
export interface BackgroundWorker {
  /** Runs ticks in the background until stop(). */
  start(): void;
  /** Finishes the current tick and stops. */
  stop(): Promise<void>;
  /** One pass; resolves to the number of items it handled. */
  tick(): Promise<number>;
  /** Ends the current sleep early, or the next one if a tick is running. */
  wake(): void;
  /** The background loop's liveness and failures (for /ready and the metrics). */
  health(): WorkerHealthSnapshot;
}

export function createWorkerLoop<R>(o: WorkerLoopOptions<R>): WorkerLoop {
  let running: Promise<void> | undefined;
  let stopping = false;
  let failure: Error | null = null;
  const { sleep, wake } = createWakeableSleep();
  const health = createWorkerHealth();

  /** One tick; resolves to the pause before the next (after a failure, the back-off already waited: 0). */
  async function step(backoff: { ms: number }): Promise<number> {
    health.tickStarted();
    try {
      const result = await o.tick();
      const was = health.snapshot();
      health.tickSucceeded();
      if (was.lastFailure) o.onRecovered(was);
      failure = null;
      backoff.ms = o.minBackoffMs;
      return o.pauseAfter(result);
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      const kind = health.tickFailed(err);
      o.onFailed(err, kind);
      if (stopping) return 0;
      backoff.ms = Math.min(backoff.ms * 2, o.maxBackoffMs);
      await waitAfterFailure({ kind, backoffMs: backoff.ms, probeIntervalMs: o.probeIntervalMs, sleep, stopped: () => stopping, probe: o.probe });
      return 0;
    }
  }

  async function loop(): Promise<void> {
    const backoff = { ms: o.minBackoffMs };
    while (!stopping) {
      const pause = await step(backoff);
      if (!stopping && pause > 0) await sleep(pause);
    }
  }

  return {
    start: () => {
      if (running) return;
      stopping = false;
      health.setRunning(true);
      running = loop().finally(() => {
        running = undefined;
        health.setRunning(false);
      });
    },
    stop: async () => {
      stopping = true;
      wake();
      await running;
    },
    wake,
    lastError: () => failure,
    health: () => health.snapshot(),
  };
}
