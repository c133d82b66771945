// Rate-limit windows in Redis (REDIS_URL), so that every replica counts against one budget. One
// script per hit: INCR, and PEXPIRE when the key has no expiry yet (its window's first hit), in one
// atomic round trip; concurrent hits share the connection's pipeline. A command fails fast instead
// of queueing while Redis is down (no offline queue, a short timeout), so the caller can fail open.
import { createClient } from '@redis/client';

export interface RateCounterHit {
  /** Hits of this key in its current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

/** A counter shared by replicas; `hit` rejects when the store cannot answer in time. */
export interface SharedRateCounter {
  hit(key: string, windowMs: number): Promise<RateCounterHit>;
  close(): Promise<void>;
}

export interface RedisRateCounterOptions {
  url: string;
  /** Prepended to every key (default `devices-api:rl:`); tests give each app its own. */
  keyPrefix?: string;
  /** A hit not answered within this is given up (default 250 ms): Redis normally answers in well under 1 ms. */
  timeoutMs?: number;
  /** Connection problems, as they happen (the client reconnects by itself). */
  onError?: (err: Error) => void;
  onReady?: () => void;
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

export function createRedisRateCounter(opts: RedisRateCounterOptions): SharedRateCounter {
  const prefix = opts.keyPrefix ?? 'devices-api:rl:';
  const commandOptions = { timeout: opts.timeoutMs ?? 250, rejectInFlight: true };
  const client = createClient({
    url: opts.url,
    // Reject at once while disconnected rather than hold requests until Redis returns.
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  });
  client.on('error', (err: Error) => opts.onError?.(err));
  client.on('ready', () => opts.onReady?.());
  // Not awaited: the service starts (and fails open) while Redis is down; the client keeps trying.
  client.connect().catch((err: Error) => opts.onError?.(err));

  let sha: string | undefined;
  const run = async (key: string, windowMs: number): Promise<[number, number]> => {
    const args = ['1', prefix + key, String(windowMs)];
    if (sha) {
      try {
        return await client.sendCommand<[number, number]>(['EVALSHA', sha, ...args], commandOptions);
      } catch (err) {
        // Redis restarted without its script cache: load it again below.
        if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      }
    }
    const reply = await client.sendCommand<[number, number]>(['EVAL', HIT, ...args], commandOptions);
    sha ??= await client.sendCommand<string>(['SCRIPT', 'LOAD', HIT], commandOptions);
    return reply;
  };

  return {
    async hit(key, windowMs) {
      const [count, resetInMs] = await run(key, windowMs);
      return { count, resetInMs };
    },
    async close() {
      // Dropped, not drained: a counter has nothing to flush, and a hung Redis never drains.
      if (client.isOpen) client.destroy();
    },
  };
}
