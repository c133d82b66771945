import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isDefinitionYear, makeDefinitionId, parseDefinitionId, slugPart } from '../../src/domain/definition-id.ts';

const SLUG_PART = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const at2025 = { currentYear: 2025 };
const name = fc.string({ maxLength: 30, unit: 'grapheme' });
const namedPart = name.filter((s) => slugPart(s) !== '');
const year = fc.integer({ min: 1981, max: 2026 });

describe('slugPart', () => {
  it('lower-cases and turns spaces into dashes', () => {
    assert.equal(slugPart('Ford'), 'ford');
    assert.equal(slugPart('Model 3'), 'model-3');
    assert.equal(slugPart('  Bronco   Sport '), 'bronco-sport');
  });

  it('keeps dashes and turns other punctuation into one dash', () => {
    assert.equal(slugPart('Mercedes-Benz'), 'mercedes-benz');
    assert.equal(slugPart('F-150'), 'f-150');
    assert.equal(slugPart('Caravan/Grand Caravan'), 'caravan-grand-caravan');
    assert.equal(slugPart('A & E Trailers'), 'a-e-trailers');
    assert.equal(slugPart('ID.4'), 'id-4');
    assert.equal(slugPart('Low Speed Vehicle (LSV)'), 'low-speed-vehicle-lsv');
    assert.equal(slugPart('snake_case'), 'snake-case');
  });

  it('drops apostrophes and accents', () => {
    assert.equal(slugPart("Mike's Trailers"), 'mikes-trailers');
    assert.equal(slugPart('Nature’s Generator'), 'natures-generator');
    assert.equal(slugPart('Citroën'), 'citroen');
    assert.equal(slugPart('Albert Böcker GmbH & Co. KG'), 'albert-bocker-gmbh-co-kg');
    assert.equal(slugPart('Edison²'), 'edison2');
  });

  it('is empty when nothing alphanumeric remains', () => {
    assert.equal(slugPart(' -/- '), '');
  });

  it('always yields dash-separated lower-case alphanumerics, never an underscore', () => {
    fc.assert(
      fc.property(name, (s) => {
        const slug = slugPart(s);
        assert.ok(slug === '' || SLUG_PART.test(slug), slug);
      }),
    );
  });

  it('gives the same slug in any case to letters whose upper case is another letter', () => {
    assert.equal(slugPart('Işık'), 'isik');
    assert.equal(slugPart('IŞIK'), 'isik');
    assert.equal(slugPart('aͅb'), slugPart('AͅB'));
  });

  it('is idempotent and ignores case', () => {
    fc.assert(
      fc.property(name, (s) => {
        assert.equal(slugPart(slugPart(s)), slugPart(s));
        assert.equal(slugPart(s.toUpperCase()), slugPart(s.toLowerCase()));
      }),
    );
  });
});

describe('makeDefinitionId', () => {
  it('joins make, model and year slugs with underscores', () => {
    assert.equal(makeDefinitionId('Ford', 'Bronco', 2021), 'ford_bronco_2021');
    assert.equal(makeDefinitionId('Tesla', 'Model 3', 2019), 'tesla_model-3_2019');
  });

  it('refuses a name without a slug or a year without four digits', () => {
    assert.throws(() => makeDefinitionId('???', 'Bronco', 2021), RangeError);
    assert.throws(() => makeDefinitionId('Ford', 'Bronco', 21), RangeError);
    assert.throws(() => makeDefinitionId('Ford', 'Bronco', 2021.5), RangeError);
  });
});

describe('parseDefinitionId', () => {
  it('splits a definition id into make, model and year', () => {
    assert.deepEqual(parseDefinitionId('ford_bronco_2021', at2025), { makeSlug: 'ford', modelSlug: 'bronco', year: 2021 });
    assert.deepEqual(parseDefinitionId('tesla_model-3_2019', at2025), { makeSlug: 'tesla', modelSlug: 'model-3', year: 2019 });
  });

  it('accepts ids in any case and with surrounding whitespace', () => {
    assert.deepEqual(parseDefinitionId(' Tesla_Model-3_2019 ', at2025), { makeSlug: 'tesla', modelSlug: 'model-3', year: 2019 });
  });

  it('accepts years from 1981 to next year only', () => {
    assert.equal(parseDefinitionId('ford_bronco_1980', at2025), null);
    assert.equal(parseDefinitionId('ford_bronco_1975', at2025), null);
    assert.notEqual(parseDefinitionId('ford_bronco_1981', at2025), null);
    assert.notEqual(parseDefinitionId('ford_bronco_2026', at2025), null);
    assert.equal(parseDefinitionId('ford_bronco_2027', at2025), null);
    assert.notEqual(parseDefinitionId('ford_bronco_2027', { currentYear: 2026 }), null);
  });

  it('rejects malformed ids', () => {
    for (const bad of ['', 'ford', 'ford_bronco', 'ford_bronco_21', 'ford_bronco_2021_x', 'ford__2021', '_bronco_2021',
      'ford_bronco-_2021', 'ford_-bronco_2021', 'ford_bron--co_2021', 'ford_model 3_2021', 'ford_bronco_２０２１', 'ford_bronco_+2021']) {
      assert.equal(parseDefinitionId(bad, at2025), null, bad);
    }
  });

  it('reads back what makeDefinitionId wrote', () => {
    fc.assert(
      fc.property(namedPart, namedPart, year, (make, model, y) => {
        assert.deepEqual(parseDefinitionId(makeDefinitionId(make, model, y), at2025), {
          makeSlug: slugPart(make),
          modelSlug: slugPart(model),
          year: y,
        });
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => void parseDefinitionId(s, at2025)));
  });
});

describe('isDefinitionYear', () => {
  it('bounds years by 1981 and the year after the current one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 1990, max: 2090 }), (y, now) => {
        assert.equal(isDefinitionYear(y, now), y >= 1981 && y <= now + 1);
      }),
    );
    assert.equal(isDefinitionYear(2020.5, 2025), false);
  });
});
