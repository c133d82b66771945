// When a failed webhook delivery is tried again: a list of delays, one per retry, each stretched
// or shrunk by up to ±20 % (jitter, so that a receiver coming back is not hit by every retry at
// once). The default spans more than 24 h even at the shortest jitter (README "Webhooks").
import type { Parsed } from './share-request.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h: the 9th attempt, about 31.6 h after the first (at least 25 h with jitter), is the last. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [5000, MIN, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR];

const UNIT_MS = { ms: 1, s: 1000, m: MIN, h: HOUR, d: 24 * HOUR } as const;

/** `5s,1m,2h` (units ms, s, m, h, d) → delays in ms. */
export function parseRetrySchedule(text: string): Parsed<number[]> {
  const parts = text.split(',').map((p) => p.trim());
  const delays: number[] = [];
  for (const p of parts) {
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(p);
    if (!m) return { ok: false, message: `"${p}" is not a delay like 5s, 10m or 2h` };
    delays.push(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
  }
  if (delays.length === 0 || delays.length > 50) return { ok: false, message: 'give between 1 and 50 delays' };
  return { ok: true, value: delays };
}

/**
 * The pause before the next attempt after `attempts` attempts failed, or null when none is left.
 * `random` in [0, 1) picks the jitter.
 */
export function retryDelayMs(schedule: readonly number[], attempts: number, random: number): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random));
}
