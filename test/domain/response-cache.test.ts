import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createResponseCache } from '../../src/domain/response-cache.ts';

const ME = ['user_devices', 'nft_privileges'];

function cacheAt(opts: { maxBytes?: number; ttlMs?: number } = {}) {
  let t = 1_000;
  const cache = createResponseCache<string>({ sizeOf: (s) => Buffer.byteLength(s), maxBytes: opts.maxBytes ?? 1024, ttlMs: opts.ttlMs ?? 10_000, now: () => t });
  return { cache, advance: (ms: number) => (t += ms) };
}

describe('response cache', () => {
  it('answers a stored body for the same key', () => {
    const { cache } = cacheAt();
    cache.set('u1 /me', 'u1', ME, '{"a":1}', cache.begin());
    assert.equal(cache.get('u1 /me'), '{"a":1}');
    assert.equal(cache.get('u2 /me'), undefined);
  });

  it('drops entries read from a table that changed, and keeps the others', () => {
    const { cache } = cacheAt();
    cache.set('me', 'u1', ME, 'me', cache.begin());
    cache.set('codes', 'u1', ['error_code_queries'], 'codes', cache.begin());
    cache.tableChanged('nft_privileges');
    assert.equal(cache.get('me'), undefined);
    assert.equal(cache.get('codes'), 'codes');
  });

  it('stores a read that began after a change', () => {
    const { cache } = cacheAt();
    cache.tableChanged('user_devices');
    cache.set('me', 'u1', ME, 'fresh', cache.begin());
    assert.equal(cache.get('me'), 'fresh');
  });

  it('does not store a read that overlapped a change, so stale data cannot come back', () => {
    const { cache } = cacheAt();
    const stamp = cache.begin();
    cache.tableChanged('user_devices'); // committed while the read was in flight
    cache.set('me', 'u1', ME, 'maybe stale', stamp);
    assert.equal(cache.get('me'), undefined);
  });

  it('drops all entries of a caller after its own write', () => {
    const { cache } = cacheAt();
    cache.set('u1 a', 'u1', ME, 'a', cache.begin());
    cache.set('u1 b', 'u1', ['documents'], 'b', cache.begin());
    cache.set('u2 a', 'u2', ME, 'c', cache.begin());
    cache.ownerChanged('u1');
    assert.equal(cache.get('u1 a'), undefined);
    assert.equal(cache.get('u1 b'), undefined);
    assert.equal(cache.get('u2 a'), 'c');
  });

  it('forgets everything on "*" (notifications may have been missed)', () => {
    const { cache } = cacheAt();
    cache.set('a', 'u1', ME, 'a', cache.begin());
    cache.tableChanged('*');
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });

  it('expires entries after the TTL', () => {
    const { cache, advance } = cacheAt({ ttlMs: 500 });
    cache.set('a', 'u1', ME, 'a', cache.begin());
    advance(499);
    assert.equal(cache.get('a'), 'a');
    advance(1);
    assert.equal(cache.get('a'), undefined);
  });

  it("expires an entry at its own shorter TTL, never later than the cache's", () => {
    const { cache, advance } = cacheAt({ ttlMs: 500 });
    cache.set('short', 'u1', ME, 'a', cache.begin(), 100);
    cache.set('long', 'u1', ME, 'b', cache.begin(), 10_000);
    advance(100);
    assert.equal(cache.get('short'), undefined);
    assert.equal(cache.get('long'), 'b');
    advance(400);
    assert.equal(cache.get('long'), undefined);
  });

  it('evicts the oldest entries to stay within maxBytes, and skips bodies larger than the bound', () => {
    const { cache } = cacheAt({ maxBytes: 10 });
    cache.set('a', 'u1', ME, '12345', cache.begin());
    cache.set('b', 'u1', ME, '12345', cache.begin());
    cache.set('c', 'u1', ME, '123', cache.begin());
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('b'), '12345');
    assert.equal(cache.get('c'), '123');
    cache.set('huge', 'u1', ME, 'x'.repeat(11), cache.begin());
    assert.equal(cache.get('huge'), undefined);
    assert.ok(cache.bytes <= 10);
  });

  it('never exceeds maxBytes and keeps its byte count exact, whatever the operations', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c', 'd'), owner: fc.constantFrom('u1', 'u2'), body: fc.string({ maxLength: 12 }) }),
      fc.record({ k: fc.constant('table' as const), table: fc.constantFrom('user_devices', 'documents', '*') }),
      fc.record({ k: fc.constant('owner' as const), owner: fc.constantFrom('u1', 'u2') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { cache } = cacheAt({ maxBytes: 20 });
        const live = new Map<string, string>();
        for (const o of ops) {
          if (o.k === 'set') cache.set(o.key, o.owner, ME, o.body, cache.begin());
          else if (o.k === 'table') cache.tableChanged(o.table);
          else cache.ownerChanged(o.owner);
          assert.ok(cache.bytes <= 20);
        }
        let total = 0;
        for (const key of ['a', 'b', 'c', 'd']) {
          const body = cache.get(key);
          if (body !== undefined) live.set(key, body);
        }
        for (const body of live.values()) total += Buffer.byteLength(body);
        assert.equal(cache.bytes, total);
      }),
    );
  });
});
