import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COUNTRY_CODES, parseCountryCode } from '../../src/domain/country.ts';

describe('parseCountryCode', () => {
  it('knows all 249 officially assigned alpha-3 codes', () => {
    assert.equal(COUNTRY_CODES.size, 249);
    for (const c of COUNTRY_CODES) assert.match(c, /^[A-Z]{3}$/);
  });

  it('accepts codes in any case and returns them upper-case', () => {
    assert.equal(parseCountryCode('USA'), 'USA');
    assert.equal(parseCountryCode('deu'), 'DEU');
    assert.equal(parseCountryCode('Gbr'), 'GBR');
    for (const c of ['CUW', 'SXM', 'BES', 'SSD', 'ALA', 'ATA', 'UMI', 'PSE', 'TWN']) assert.equal(parseCountryCode(c), c);
  });

  it('refuses alpha-2 codes, withdrawn and user-assigned codes, and junk', () => {
    for (const bad of ['US', 'USAA', 'ANT', 'SCG', 'YUG', 'XKX', 'ZZZ', 'U S', ' USA', '', 'ÜSA']) {
      assert.equal(parseCountryCode(bad), null, bad);
    }
    assert.equal(parseCountryCode(840), null);
  });
});
