// Rate limits across replicas: with REDIS_URL every replica counts against one budget; without it
// each counts alone; a Redis that is down or hangs fails open to per-replica counting, never a 5xx.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { emptyCatalog } from '../helpers/http-assert.ts';
import { createRedisRateCounter, type SharedRateCounter } from '../../src/storage/redis-rate-counter.ts';
import { TEST_REDIS_URL, redisSkipReason, testKeyPrefix } from '../helpers/redis.ts';

const skip = (await redisSkipReason()) ?? false;

/** Resolves once the counter answers (it connects in the background; until then hits reject). */
async function connected(counter: SharedRateCounter): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await counter.hit('connected-probe', 1000).then(() => true, () => false)) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('Redis did not answer within 5 s');
}

/** Two replicas (two apps, two Redis clients) with RATE_LIMIT_MAX=4; `url` undefined: no Redis. */
async function replicas(url: string | undefined, prefix = testKeyPrefix()): Promise<{ a: TestApp; b: TestApp; close: () => Promise<void> }> {
  const counters: SharedRateCounter[] = [];
  const app = async () => {
    const counter = url ? createRedisRateCounter({ url, keyPrefix: prefix }) : undefined;
    if (counter) counters.push(counter);
    if (counter && url === TEST_REDIS_URL) await connected(counter);
    return createTestApp({ catalog: emptyCatalog, env: { RATE_LIMIT_MAX: '4' }, deps: { sharedRateCounter: counter } });
  };
  const a = await app();
  const b = await app();
  return {
    a,
    b,
    close: async () => {
      await a.close();
      await b.close();
      for (const c of counters) await c.close();
    },
  };
}

/** Anonymous GETs (keyed on 127.0.0.1), alternating between the replicas. */
async function alternate(a: TestApp, b: TestApp, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await (i % 2 ? b : a).request('GET', '/v1/openapi.json')).status);
  return statuses;
}

describe('rate limits without Redis', () => {
  it('count per replica: two replicas allow twice the limit', async () => {
    const r = await replicas(undefined);
    try {
      assert.deepEqual(await alternate(r.a, r.b, 10), [200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    } finally {
      await r.close();
    }
  });
});

describe('rate limits in Redis (REDIS_URL)', { skip }, () => {
  it('two replicas share one budget', async () => {
    const r = await replicas(TEST_REDIS_URL);
    try {
      const statuses = await alternate(r.a, r.b, 6);
      assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
      const limited = await r.b.request('GET', '/v1/openapi.json');
      assert.equal(limited.headers.get('ratelimit-remaining'), '0');
      const retryAfter = Number(limited.headers.get('retry-after'));
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    } finally {
      await r.close();
    }
  });

  it('counts concurrent requests exactly (the increment is atomic)', async () => {
    const r = await replicas(TEST_REDIS_URL);
    try {
      const all = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? r.b : r.a).request('GET', '/v1/openapi.json')));
      assert.equal(all.filter((x) => x.status === 200).length, 4);
      assert.equal(all.filter((x) => x.status === 429).length, 8);
    } finally {
      await r.close();
    }
  });

  it('starts a new window once the old one expires in Redis', async () => {
    const counter = createRedisRateCounter({ url: TEST_REDIS_URL, keyPrefix: testKeyPrefix() });
    try {
      await connected(counter);
      assert.equal((await counter.hit('k', 1000)).count, 1);
      const second = await counter.hit('k', 1000);
      assert.equal(second.count, 2);
      assert.ok(second.resetInMs > 0 && second.resetInMs <= 1000, `resetInMs ${second.resetInMs}`);
      let count = 2;
      for (let i = 0; i < 40 && count !== 1; i++) {
        await new Promise((res) => setTimeout(res, 100));
        count = (await counter.hit('k', 1000)).count;
      }
      assert.equal(count, 1, 'a new window after the first expired');
    } finally {
      await counter.close();
    }
  });
});

describe('a Redis outage fails open', () => {
  const hung: net.Server[] = [];
  after(() => {
    for (const s of hung) s.close();
  });

  async function check(url: string) {
    const r = await replicas(url);
    try {
      // Per replica, as without Redis: each allows 4, nothing answers 5xx.
      const statuses = await alternate(r.a, r.b, 10);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
      const metrics = (await r.a.request('GET', '/metrics')).text;
      const failures = Number(/^rate_limit_shared_store_failures_total (\d+)/m.exec(metrics)?.[1]);
      assert.ok(failures >= 5, `failures counted: ${failures}`);
    } finally {
      await r.close();
    }
  }

  it('when nothing listens at REDIS_URL', async () => {
    const free = net.createServer();
    await new Promise<void>((res) => free.listen(0, '127.0.0.1', res));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((res) => free.close(() => res()));
    await check(`redis://127.0.0.1:${port}`);
  });

  it('when Redis accepts the connection but never answers', async () => {
    const server = net.createServer((socket) => socket.on('error', () => {}));
    hung.push(server);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    await check(`redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  });
});
