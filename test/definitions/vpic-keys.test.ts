import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { keysOverlap, parseKeys } from '../../src/definitions/vpic-keys.ts';

const set = (chars: string) => new Set(chars);

describe('parseKeys', () => {
  it('reads literals, wildcards and character classes from position 4', () => {
    assert.deepEqual(parseKeys('CM8*[2-4]'), [set('C'), set('M'), set('8'), null, set('234')]);
    assert.deepEqual(parseKeys('[AC-E]'), [set('ACDE')]);
  });

  it('skips position 9 after a bar and continues at position 10', () => {
    assert.deepEqual(parseKeys('*****|***1'), [null, null, null, null, null, null, null, null, null, set('1')]);
    assert.deepEqual(parseKeys('AB|C'), [set('A'), set('B'), null, null, null, null, set('C')]);
  });
});

describe('keysOverlap', () => {
  it('holds when some VIN can match both keys', () => {
    assert.equal(keysOverlap(parseKeys('CM82*'), parseKeys('**8[0-3]')), true);
    assert.equal(keysOverlap(parseKeys('CM82*'), parseKeys('*****|A')), true);
  });

  it('fails when one position cannot agree', () => {
    assert.equal(keysOverlap(parseKeys('CM82*'), parseKeys('CN***')), false);
    assert.equal(keysOverlap(parseKeys('[A-C]'), parseKeys('[D-F]')), false);
  });

  const token = fc.oneof(
    fc.constant('*'),
    fc.constantFrom(...'ABCDEFGH0123'),
    fc.constantFrom('[A-C]', '[D-F]', '[0-2]', '[AE3]'),
  );
  const keys = fc.array(token, { minLength: 1, maxLength: 5 }).map((ts) => ts.join(''));
  const char = fc.constantFrom(...'ABCDEFGH0123');

  it('is symmetric', () => {
    fc.assert(fc.property(keys, keys, (a, b) => assert.equal(keysOverlap(parseKeys(a), parseKeys(b)), keysOverlap(parseKeys(b), parseKeys(a)))));
  });

  it('holds whenever one string matches both keys', () => {
    fc.assert(
      fc.property(keys, keys, fc.array(char, { minLength: 5, maxLength: 5 }), (a, b, vds) => {
        const pa = parseKeys(a);
        const pb = parseKeys(b);
        const matches = (p: typeof pa) => p.every((allowed, i) => !allowed || allowed.has(vds[i] ?? ''));
        if (matches(pa) && matches(pb)) assert.equal(keysOverlap(pa, pb), true);
      }),
    );
  });
});
