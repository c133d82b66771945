import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule, retryDelayMs } from '../../src/domain/retry-schedule.ts';

describe('the webhook retry schedule', () => {
  it('retries first after about 5 s, then minutes, then hours, for more than 24 h even with the shortest jitter', () => {
    const first = retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, 1, 0.5)!;
    assert.equal(first, 5000);
    let shortest = 0;
    for (let a = 1; ; a++) {
      const d = retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, a, 0);
      if (d === null) break;
      shortest += d;
    }
    assert.ok(shortest > 24 * 3600_000, `only ${shortest / 3600_000} h`);
  });

  it('keeps every delay within ±20 % of the schedule and gives up after the last', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: DEFAULT_RETRY_SCHEDULE_MS.length }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempts, r) => {
        const base = DEFAULT_RETRY_SCHEDULE_MS[attempts - 1]!;
        const d = retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, attempts, r)!;
        return d >= base * 0.8 - 1 && d <= base * 1.2 + 1;
      }),
    );
    assert.equal(retryDelayMs(DEFAULT_RETRY_SCHEDULE_MS, DEFAULT_RETRY_SCHEDULE_MS.length + 1, 0.5), null);
  });

  it('parses WEBHOOK_RETRY_SCHEDULE', () => {
    assert.deepEqual(parseRetrySchedule('100ms, 1s,2m,1h,1d'), { ok: true, value: [100, 1000, 120_000, 3_600_000, 86_400_000] });
    assert.equal(parseRetrySchedule('5x').ok, false);
    assert.equal(parseRetrySchedule('').ok, false);
  });
});
