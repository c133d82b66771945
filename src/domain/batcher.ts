// Group commit for a process: callers hand in one item each and get their own result, while the
// items that arrive as earlier runs are in flight go to the database together in one statement.
// At low load a run starts at once with a single item (no added wait); under load each run
// carries everything that queued during the previous one, so round trips and commits per
// request fall as the load rises. Nothing is held back on a timer.

export interface BatcherOptions {
  /** Largest number of items in one run; the rest wait for the next. */
  maxBatch: number;
  /** Runs allowed at the same time. */
  maxInFlight: number;
}

/**
 * `run` gets the items of one batch and answers one result per item, in the same order. A
 * rejection of `run` rejects every item of that batch with the same error.
 */
export function createBatcher<I, O>(run: (items: I[]) => Promise<O[]>, opts: BatcherOptions): (item: I) => Promise<O> {
  if (!(opts.maxBatch >= 1 && opts.maxInFlight >= 1)) throw new RangeError('maxBatch and maxInFlight must be at least 1');
  interface Waiting {
    item: I;
    resolve: (o: O) => void;
    reject: (e: unknown) => void;
  }
  let queue: Waiting[] = [];
  let inFlight = 0;

  function pump(): void {
    while (inFlight < opts.maxInFlight && queue.length > 0) {
      const batch = queue.length <= opts.maxBatch ? queue : queue.slice(0, opts.maxBatch);
      queue = batch === queue ? [] : queue.slice(opts.maxBatch);
      inFlight++;
      void start(batch);
    }
  }

  async function start(batch: Waiting[]): Promise<void> {
    try {
      const results = await run(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`batch run answered ${results.length} results for ${batch.length} items`);
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      inFlight--;
      pump();
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      // After this round of I/O callbacks, so the requests read from every ready socket join one run.
      if (queue.length === 1) setImmediate(pump);
    });
}
