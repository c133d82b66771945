import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cliJson } from '../../src/cli/json-output.ts';

describe('cliJson', () => {
  it('writes bigint token ids as JSON numbers with every digit', () => {
    const max = (1n << 256n) - 1n;
    const text = cliJson({ chainId: 31337, devices: [{ serial: 'a', tokenId: 1n }, { serial: 'b', tokenId: max }] });
    assert.match(text, new RegExp(`"tokenId": ${max}\\n`));
    assert.deepEqual(JSON.parse(text.replace(String(max), '0')), { chainId: 31337, devices: [{ serial: 'a', tokenId: 1 }, { serial: 'b', tokenId: 0 }] });
  });

  it('leaves strings that look like numbers as strings', () => {
    assert.deepEqual(JSON.parse(cliJson({ serial: '42', id: 42n })), { serial: '42', id: 42 });
  });

  it('indents as JSON.stringify does with two spaces', () => {
    const value = { a: [1, { b: 'c' }], d: null };
    assert.equal(cliJson(value), JSON.stringify(value, null, 2));
  });
});
