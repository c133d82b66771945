import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createBatcher } from '../../src/domain/batcher.ts';

/** A run the test finishes by hand, recording each batch it was given. */
function manualRuns<I>() {
  const batches: I[][] = [];
  const finishers: Array<() => void> = [];
  let running = 0;
  let maxRunning = 0;
  const run = (items: I[]) =>
    new Promise<string[]>((resolve) => {
      batches.push(items);
      running++;
      maxRunning = Math.max(maxRunning, running);
      finishers.push(() => {
        running--;
        resolve(items.map((i) => `done:${String(i)}`));
      });
    });
  return { run, batches, finishers, maxRunning: () => maxRunning };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('createBatcher', () => {
  it('runs a lone item at once, in a batch of its own', async () => {
    const runs = manualRuns<number>();
    const submit = createBatcher(runs.run, { maxBatch: 10, maxInFlight: 1 });
    const answer = submit(1);
    await turn();
    assert.deepEqual(runs.batches, [[1]]);
    runs.finishers[0]!();
    assert.equal(await answer, 'done:1');
  });

  it('sends everything that queued during a run together in the next one', async () => {
    const runs = manualRuns<number>();
    const submit = createBatcher(runs.run, { maxBatch: 10, maxInFlight: 1 });
    const first = submit(1);
    await turn();
    const rest = [2, 3, 4].map(submit);
    await turn();
    assert.equal(runs.batches.length, 1, 'nothing starts while the only run is in flight');
    runs.finishers[0]!();
    await first;
    await turn();
    assert.deepEqual(runs.batches[1], [2, 3, 4]);
    runs.finishers[1]!();
    assert.deepEqual(await Promise.all(rest), ['done:2', 'done:3', 'done:4']);
  });

  it('gives each item of a failed run the run error', async () => {
    const submit = createBatcher<number, number>(async () => Promise.reject(new Error('db down')), { maxBatch: 5, maxInFlight: 1 });
    const results = await Promise.allSettled([submit(1), submit(2)]);
    assert.deepEqual(
      results.map((r) => r.status === 'rejected' && (r.reason as Error).message),
      ['db down', 'db down'],
    );
  });

  it('rejects every item when a run answers the wrong number of results', async () => {
    const submit = createBatcher<number, number>(async () => [1], { maxBatch: 5, maxInFlight: 1 });
    const results = await Promise.allSettled([submit(1), submit(2)]);
    assert.ok(results.every((r) => r.status === 'rejected'));
  });

  it('answers every item with its own result, never runs more than allowed, and keeps batches within maxBatch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (arrivals, maxBatch, maxInFlight) => {
          const runs = manualRuns<number>();
          const submit = createBatcher(runs.run, { maxBatch, maxInFlight });
          const answers: Array<Promise<string>> = [];
          let next = 0;
          // Each step submits a few items, then finishes the oldest unfinished run, if any.
          let finished = 0;
          for (const count of arrivals) {
            for (let i = 0; i < count; i++) answers.push(submit(next++));
            await turn();
            if (finished < runs.finishers.length) runs.finishers[finished++]!();
            await turn();
          }
          for (;;) {
            await turn();
            if (finished === runs.finishers.length) break;
            runs.finishers[finished++]!();
          }
          const got = await Promise.all(answers);
          assert.deepEqual(got, [...Array(next).keys()].map((i) => `done:${i}`));
          assert.ok(runs.maxRunning() <= maxInFlight);
          assert.ok(runs.batches.every((b) => b.length >= 1 && b.length <= maxBatch));
          assert.deepEqual(runs.batches.flat(), [...Array(next).keys()], 'each item runs once, in arrival order');
        },
      ),
      { numRuns: 60 },
    );
  });
});
