import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildMakeModelIndex, cleanName } from '../../src/definitions/make-model-index.ts';

describe('buildMakeModelIndex', () => {
  const index = buildMakeModelIndex([
    ['Ford', 1, 'Bronco'],
    ['Tesla', 2, 'Model 3'],
    ['Oshkosh', 3, 'H Series'],
    ['Oshkosh', 4, 'H-Series'],
    ['RAVEN MOTORCYCLE ', 5, 'FLY  50'],
    ['???', 6, 'Nameless'],
  ]);

  it('finds a pair by make and model slugs, with vPIC spelling', () => {
    assert.deepEqual(index.find('tesla', 'model-3'), { makeSlug: 'tesla', makeName: 'Tesla', modelSlug: 'model-3', modelName: 'Model 3', modelId: 2 });
  });

  it('does not pair a model with another make', () => {
    assert.equal(index.find('ford', 'model-3'), undefined);
  });

  it('keeps the first of two names sharing a slug', () => {
    assert.equal(index.find('oshkosh', 'h-series')?.modelId, 3);
  });

  it('cleans stray spaces from names', () => {
    assert.equal(index.find('raven-motorcycle', 'fly-50')?.makeName, 'RAVEN MOTORCYCLE');
    assert.equal(index.find('raven-motorcycle', 'fly-50')?.modelName, 'FLY 50');
    assert.equal(cleanName('  a \t b '), 'a b');
  });

  it('skips names without a slug', () => {
    assert.equal(index.size, 4);
  });
});
