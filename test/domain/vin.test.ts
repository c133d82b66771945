import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseVin, vinCheckDigit, vinCheckDigitValid } from '../../src/domain/vin.ts';

const ALPHABET = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
const vinChar = fc.constantFrom(...ALPHABET);
const vin = fc.array(vinChar, { minLength: 17, maxLength: 17 }).map((cs) => cs.join(''));

function failure(raw: unknown): string {
  const r = parseVin(raw);
  assert.equal(r.ok, false, `expected ${JSON.stringify(raw)} to be rejected`);
  return r.ok ? '' : r.message;
}

describe('parseVin', () => {
  it('accepts a VIN, trimming and upper-casing it', () => {
    assert.deepEqual(parseVin('  1hgcm82633a004352\n'), { ok: true, vin: '1HGCM82633A004352' });
  });

  it('accepts a VIN whose check digit is wrong, since only North America requires one', () => {
    assert.deepEqual(parseVin('5YJ3E1EA7KF317000'), { ok: true, vin: '5YJ3E1EA7KF317000' });
  });

  it('says which letter I, O or Q it found and where', () => {
    const message = failure('1HGCM82633A00435O');
    assert.match(message, /I, O or Q/);
    assert.match(message, /"O" at position 17/);
    assert.doesNotMatch(message, /17 characters/);
  });

  it('says the length is wrong and what it was', () => {
    const message = failure('1HGCM82633A00435');
    assert.match(message, /17 characters long, got 16/);
    assert.doesNotMatch(message, /I, O or Q/);
  });

  it('names both problems when the length and the letters are wrong', () => {
    const message = failure('IOQ');
    assert.match(message, /got 3/);
    assert.match(message, /I, O or Q/);
  });

  it('rejects punctuation and non-Latin characters with their own message', () => {
    assert.match(failure('1HGCM826-3A004352'), /only contain letters and digits \(found "-" at position 9\)/);
    assert.match(failure('1HGCM82633A00435É'), /letters and digits/);
  });

  it('rejects an empty or non-string VIN', () => {
    assert.match(failure('   '), /got 0/);
    assert.equal(failure(undefined), 'VIN must be a string');
    assert.equal(failure(17), 'VIN must be a string');
  });

  it('accepts every 17-character string of the VIN alphabet, in any case and padding', () => {
    fc.assert(
      fc.property(vin, fc.boolean(), fc.constantFrom('', ' ', '\t', '\n '), (v, lower, pad) => {
        const raw = `${pad}${lower ? v.toLowerCase() : v}${pad}`;
        assert.deepEqual(parseVin(raw), { ok: true, vin: v });
      }),
    );
  });

  it('rejects any VIN holding I, O or Q, naming the letters', () => {
    fc.assert(
      fc.property(vin, fc.integer({ min: 0, max: 16 }), fc.constantFrom('I', 'O', 'Q', 'i', 'o', 'q'), (v, at, bad) => {
        const raw = v.slice(0, at) + bad + v.slice(at + 1);
        assert.match(failure(raw), new RegExp(`"${bad.toUpperCase()}" at position ${at + 1}`));
      }),
    );
  });

  it('rejects any other length, stating it', () => {
    fc.assert(
      fc.property(fc.array(vinChar, { maxLength: 40 }).filter((cs) => cs.length !== 17), (cs) => {
        assert.match(failure(cs.join('')), new RegExp(`got ${cs.length}$`));
      }),
    );
  });

  it('never throws and only ever accepts the VIN alphabet', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30, unit: 'grapheme' }), (s) => {
        const r = parseVin(s);
        if (r.ok) assert.match(r.vin, /^[A-HJ-NPR-Z0-9]{17}$/);
        else assert.ok(r.message.length > 0);
      }),
    );
  });
});

describe('vinCheckDigit', () => {
  it('validates known North American VINs', () => {
    assert.equal(vinCheckDigitValid('1HGCM82633A004352'), true);
    assert.equal(vinCheckDigitValid('11111111111111111'), true);
    assert.equal(vinCheckDigit('1M8GDM9AXKP042788'), 'X');
    assert.equal(vinCheckDigitValid('1M8GDM9AXKP042788'), true);
  });

  it('reports a wrong check digit', () => {
    assert.equal(vinCheckDigitValid('5YJ3E1EA7KF317000'), false);
    assert.equal(vinCheckDigitValid('1HGCM82643A004352'), false);
  });

  it('is false for strings that are not VINs', () => {
    assert.equal(vinCheckDigitValid('1HGCM82633A00435'), false);
    assert.equal(vinCheckDigitValid('1hgcm82633a004352'), false);
  });

  it('makes a VIN valid exactly when position 9 holds the computed digit', () => {
    fc.assert(
      fc.property(vin, fc.constantFrom(...'0123456789X'), (v, digit) => {
        const withDigit = v.slice(0, 8) + digit + v.slice(9);
        // Position 9 has weight 0, so the expected digit does not depend on what is there.
        assert.equal(vinCheckDigit(withDigit), vinCheckDigit(v));
        assert.equal(vinCheckDigitValid(withDigit), digit === vinCheckDigit(v));
      }),
    );
  });
});
