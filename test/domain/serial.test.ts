import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_SERIAL_LENGTH, normaliseSerial } from '../../src/domain/serial.ts';

describe('normaliseSerial', () => {
  it('trims surrounding whitespace', () => {
    assert.equal(normaliseSerial('  ABC123\n'), 'ABC123');
    assert.equal(normaliseSerial('\tc0ffee\u00a0'), 'c0ffee');
  });

  it('lower-cases serials that are UUIDs', () => {
    assert.equal(normaliseSerial(' 7E1A2B3C-4D5E-6F70-8192-A3B4C5D6E7F8 '), '7e1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8');
  });

  it('keeps the case of serials that are not UUIDs, including near-UUIDs', () => {
    assert.equal(normaliseSerial('Macaron-ABC'), 'Macaron-ABC');
    assert.equal(normaliseSerial('7E1A2B3C4D5E6F708192A3B4C5D6E7F8'), '7E1A2B3C4D5E6F708192A3B4C5D6E7F8');
    assert.equal(normaliseSerial('7E1A2B3C-4D5E-6F70-8192-A3B4C5D6E7FG'), '7E1A2B3C-4D5E-6F70-8192-A3B4C5D6E7FG');
  });

  it('refuses empty and blank serials', () => {
    for (const bad of ['', '   ', '\n\t']) assert.equal(normaliseSerial(bad), null);
  });

  it(`refuses serials over ${MAX_SERIAL_LENGTH} characters but accepts exactly ${MAX_SERIAL_LENGTH}`, () => {
    assert.equal(normaliseSerial('x'.repeat(MAX_SERIAL_LENGTH)), 'x'.repeat(MAX_SERIAL_LENGTH));
    assert.equal(normaliseSerial('x'.repeat(MAX_SERIAL_LENGTH + 1)), null);
    assert.equal(normaliseSerial(`  ${'x'.repeat(MAX_SERIAL_LENGTH)}  `), 'x'.repeat(MAX_SERIAL_LENGTH));
  });

  it('refuses control and invisible characters inside the serial', () => {
    for (const bad of ['AB\u0000C', 'AB\nC', 'AB\u007fC', 'AB\u200bC', 'AB\u2028C', 'AB\ud800C']) {
      assert.equal(normaliseSerial(bad), null, JSON.stringify(bad));
    }
    assert.equal(normaliseSerial(42), null);
  });

  it('keeps ordinary punctuation and non-ASCII letters', () => {
    assert.equal(normaliseSerial('SN:ÄÖ-12/3 b'), 'SN:ÄÖ-12/3 b');
  });

  it('property: idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 140, unit: 'grapheme' }), fc.uuid().map((u) => ` ${u.toUpperCase()} `)), (raw) => {
        const once = normaliseSerial(raw);
        if (once !== null) assert.equal(normaliseSerial(once), once);
      }),
    );
  });

  it('property: a result is trimmed, non-empty, at most 128 characters, and UUIDs come out lower-case', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), fc.uuid(), fc.boolean(), (raw, uuid, useUuid) => {
        const input = useUuid ? `\t${uuid.toUpperCase()}` : raw;
        const out = normaliseSerial(input);
        if (useUuid) assert.equal(out, uuid.toLowerCase());
        if (out === null) return;
        assert.equal(out, out.trim());
        assert.ok(out.length > 0 && [...out].length <= MAX_SERIAL_LENGTH);
      }),
    );
  });
});
