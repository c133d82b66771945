import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRateWindows } from '../../src/domain/rate-window.ts';

describe('createRateWindows', () => {
  it('counts hits per key within a window and starts again at 1 once it has ended', () => {
    const w = createRateWindows({ windowMs: 1000, maxKeys: 10 });
    assert.deepEqual({ ...w.hit('a', 5000) }, { count: 1, resetAtMs: 6000 });
    assert.deepEqual({ ...w.hit('a', 5999) }, { count: 2, resetAtMs: 6000 });
    assert.deepEqual({ ...w.hit('b', 5999) }, { count: 1, resetAtMs: 6999 });
    assert.deepEqual({ ...w.hit('a', 6000) }, { count: 1, resetAtMs: 7000 });
  });

  it('keeps at most maxKeys, dropping the window that started longest ago', () => {
    const w = createRateWindows({ windowMs: 1000, maxKeys: 2 });
    w.hit('a', 0);
    w.hit('b', 10);
    w.hit('a', 20);
    w.hit('a', 1500); // a's window restarts, so b's is now the oldest
    w.hit('c', 1600);
    assert.equal(w.size, 2);
    assert.equal(w.hit('a', 1700).count, 2);
    assert.equal(w.hit('b', 1700).count, 1, 'b was dropped and starts afresh');
  });

  it('never counts more than the hits of a key in its window, and restarts at 1 after it', () => {
    const step = fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), dt: fc.integer({ min: 0, max: 400 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), fc.integer({ min: 1, max: 4 }), (steps, maxKeys) => {
        const windowMs = 1000;
        const w = createRateWindows({ windowMs, maxKeys });
        const times = new Map<string, number[]>();
        const resets = new Map<string, number>();
        let now = 0;
        for (const { key, dt } of steps) {
          now += dt;
          const seen = [...(times.get(key) ?? []), now];
          times.set(key, seen);
          const { count, resetAtMs } = w.hit(key, now);
          const windowStart = resetAtMs - windowMs;
          assert.ok(windowStart <= now && now < resetAtMs);
          assert.ok(count >= 1 && count <= seen.filter((t) => t >= windowStart).length);
          if (now >= (resets.get(key) ?? 0)) assert.equal(count, 1, 'a window that has ended starts again at 1');
          resets.set(key, resetAtMs);
          assert.ok(w.size <= maxKeys);
        }
      }),
    );
  });
});
