import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTtlCache } from '../../src/lib/ttl-cache.ts';

/** A loader that answers `values` in turn and counts its calls. */
function loader<V>(...values: (V | null)[]) {
  let calls = 0;
  const load = async () => values[Math.min(calls++, values.length - 1)] ?? null;
  return { load, calls: () => calls };
}

describe('createTtlCache', () => {
  it('answers from memory until the entry is older than the TTL, then loads again', async () => {
    let t = 1000;
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 100, now: () => t });
    const l = loader('first', 'second');
    assert.equal(await cache.get('k', l.load), 'first');
    t += 99;
    assert.equal(await cache.get('k', l.load), 'first');
    assert.equal(l.calls(), 1);
    t += 1;
    assert.equal(await cache.get('k', l.load), 'second');
    assert.equal(l.calls(), 2);
  });

  it('keeps at most its capacity, dropping the least recently used', async () => {
    const cache = createTtlCache<string>({ capacity: 2, ttlMs: 60_000 });
    const a = loader('a');
    await cache.get('a', a.load);
    await cache.get('b', async () => 'b');
    await cache.get('a', a.load); // a is now the most recent
    await cache.get('c', async () => 'c');
    assert.equal(cache.size, 2);
    assert.equal(a.calls(), 1);
    const b = loader('b again');
    assert.equal(await cache.get('b', b.load), 'b again');
    assert.equal(b.calls(), 1);
  });

  it('shares one load between concurrent misses', async () => {
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 60_000 });
    let calls = 0;
    let release!: (v: string) => void;
    const load = () => ((calls++, new Promise<string>((r) => (release = r))));
    const waiting = [cache.get('k', load), cache.get('k', load), cache.get('k', load)];
    assert.ok(waiting.every((w) => w instanceof Promise), 'nothing has arrived yet');
    release('v');
    assert.deepEqual(await Promise.all(waiting.map(async (w) => w)), ['v', 'v', 'v']);
    assert.equal(calls, 1);
  });

  it('does not keep a not-found answer: the next call asks again', async () => {
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 60_000 });
    const l = loader<string>(null, 'minted');
    assert.equal(await cache.get('k', l.load), null);
    assert.equal(await cache.get('k', l.load), 'minted');
    assert.equal(cache.size, 1);
  });

  it('answers a kept value that has arrived as it is, without a promise', async () => {
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 60_000 });
    const first = cache.get('k', async () => 'v');
    assert.ok(first instanceof Promise, 'a load is a promise');
    assert.equal(await first, 'v');
    assert.equal(cache.get('k', async () => 'other'), 'v');
  });

  it('runs beforeLoad only before a load, and keeps nothing when it refuses', async () => {
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 60_000 });
    let charged = 0;
    const charge = () => void charged++;
    assert.throws(() =>
      cache.get(
        'k',
        async () => 'v',
        () => {
          throw new Error('limited');
        },
      ),
    );
    assert.equal(cache.size, 0);
    assert.equal(await cache.get('k', async () => 'v', charge), 'v');
    assert.equal(cache.get('k', async () => 'other', charge), 'v');
    assert.equal(charged, 1, 'a kept value is not charged');
  });

  it('does not keep a failed load', async () => {
    const cache = createTtlCache<string>({ capacity: 10, ttlMs: 60_000 });
    await assert.rejects(
      async () =>
        cache.get('k', async () => {
          throw new Error('database down');
        }),
      /database down/,
    );
    assert.equal(await cache.get('k', async () => 'back'), 'back');
  });
});
