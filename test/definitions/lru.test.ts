import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLru } from '../../src/definitions/lru.ts';

describe('createLru', () => {
  it('returns what was stored', () => {
    const lru = createLru<string, number>(2);
    lru.set('a', 1);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('b'), undefined);
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const lru = createLru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.get('a');
    lru.set('c', 3);
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
    assert.equal(lru.size, 2);
  });

  it('forgets a deleted entry', () => {
    const lru = createLru<string, number>(2);
    lru.set('a', 1);
    lru.delete('a');
    assert.equal(lru.get('a'), undefined);
    assert.equal(lru.size, 0);
  });

  it('refuses a capacity below one', () => {
    assert.throws(() => createLru(0), RangeError);
  });

  it('never holds more than its capacity and keeps the most recent writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 50 }), (capacity, keys) => {
        const lru = createLru<number, number>(capacity);
        keys.forEach((k, i) => lru.set(k, i));
        assert.ok(lru.size <= capacity);
        const last = keys.at(-1);
        if (last !== undefined) assert.equal(lru.get(last), keys.length - 1);
      }),
    );
  });
});
