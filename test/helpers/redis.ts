// The Redis that Redis-backed tests use: REDIS_URL, else this machine's default port. Tests skip
// with a message saying so when it does not answer (CI's .ci/run starts it).
import net from 'node:net';
import { randomUUID } from 'node:crypto';

export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** undefined when Redis answers PING, else why the tests skip. */
export async function redisSkipReason(url = TEST_REDIS_URL): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const answered = await new Promise<boolean>((resolve) => {
    const s = net.connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''));
    const done = (ok: boolean) => (s.destroy(), resolve(ok));
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
  return answered ? undefined : `no Redis answers at ${url}: these tests need one (set REDIS_URL, or start redis-server on 127.0.0.1:6379)`;
}

/** A key prefix no other test (or run) shares. */
export const testKeyPrefix = () => `devices-api-test:${randomUUID()}:`;
