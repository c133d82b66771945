import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createWakeableSleep } from '../../src/chain/wakeable-sleep.ts';

// Mocked timers: wall-clock assertions fail on a loaded CI machine, where libuv's cached loop
// time can make a fresh 50 ms timer fire after a few real milliseconds.
const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
};

describe('a worker pause that can be cut short', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('lasts its time when nobody wakes it', async () => {
    const pause = createWakeableSleep().sleep(50);
    mock.timers.tick(49);
    assert.equal(await settled(pause), false);
    mock.timers.tick(1);
    assert.equal(await settled(pause), true);
  });

  it('ends at wake()', async () => {
    const s = createWakeableSleep();
    const pause = s.sleep(10_000);
    s.wake();
    assert.equal(await settled(pause), true);
  });

  it('skips the next pause when woken while the worker was busy, once', async () => {
    const s = createWakeableSleep();
    s.wake();
    s.wake();
    assert.equal(await settled(s.sleep(10_000)), true);
    const second = s.sleep(50);
    assert.equal(await settled(second), false, 'two wake-ups while busy skip one pause, not two');
    mock.timers.tick(50);
    assert.equal(await settled(second), true);
  });
});
