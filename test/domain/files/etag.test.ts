import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { etagForSha256, ifNoneMatchMatches } from '../../../src/domain/files/etag.ts';

const sha = 'a'.repeat(64);
const etag = etagForSha256(sha);

describe('etagForSha256', () => {
  it('quotes the hash as a strong entity tag', () => {
    assert.equal(etag, `"${sha}"`);
  });
});

describe('ifNoneMatchMatches', () => {
  it('matches the same tag, weak or strong, alone or in a list', () => {
    assert.equal(ifNoneMatchMatches(etag, etag), true);
    assert.equal(ifNoneMatchMatches(`W/${etag}`, etag), true);
    assert.equal(ifNoneMatchMatches(`"other", ${etag}`, etag), true);
    assert.equal(ifNoneMatchMatches(`"x",W/"y" ,  ${etag}`, etag), true);
  });

  it('matches * for any existing representation', () => {
    assert.equal(ifNoneMatchMatches('*', etag), true);
  });

  it('does not match absent, other or unquoted tags', () => {
    assert.equal(ifNoneMatchMatches(undefined, etag), false);
    assert.equal(ifNoneMatchMatches('"other"', etag), false);
    assert.equal(ifNoneMatchMatches(sha, etag), false);
    assert.equal(ifNoneMatchMatches('', etag), false);
    assert.equal(ifNoneMatchMatches(`"${sha.slice(1)}"`, etag), false);
  });

  it('never throws on arbitrary header values', () => {
    fc.assert(
      fc.property(fc.string(), (h) => {
        ifNoneMatchMatches(h, etag);
      }),
    );
  });
});
