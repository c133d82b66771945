import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWakeableSleep } from '../../src/chain/wakeable-sleep.ts';

const elapsed = async (p: Promise<void>) => {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
};

describe('a worker pause that can be cut short', () => {
  it('lasts its time when nobody wakes it', async () => {
    assert.ok((await elapsed(createWakeableSleep().sleep(50))) >= 45);
  });

  it('ends at wake()', async () => {
    const s = createWakeableSleep();
    const pause = s.sleep(10_000);
    s.wake();
    assert.ok((await elapsed(pause)) < 1000);
  });

  it('skips the next pause when woken while the worker was busy, once', async () => {
    const s = createWakeableSleep();
    s.wake();
    s.wake();
    assert.ok((await elapsed(s.sleep(10_000))) < 1000);
    assert.ok((await elapsed(s.sleep(50))) >= 45, 'two wake-ups while busy skip one pause, not two');
  });
});
