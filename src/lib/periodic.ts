// A background task run on a timer: the event pruner and the document reconciler share it.

export interface PeriodicTask {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs` (the first run after one interval), never two at once: the next
 * interval starts when a run ends. A failed run goes to `onError`; the next one comes as usual.
 * `task` may poll `isStopped` to end a long run early.
 */
export function runPeriodically(intervalMs: number, task: (isStopped: () => boolean) => Promise<void>, onError: (err: unknown) => void): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const isStopped = () => stopped;

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = task(isStopped).catch(onError);
      void running.finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref(); // never keeps the process alive on its own
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
