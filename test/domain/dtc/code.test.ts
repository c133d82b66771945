import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_CODES_PER_REQUEST, parseDtc, parseDtcList } from '../../../src/domain/dtc/code.ts';

function codesOf(input: unknown): string[] {
  const r = parseDtcList(input);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.codes.map((c) => c.code);
}

function messageOf(input: unknown): string {
  const r = parseDtcList(input);
  assert.ok(!r.ok, 'expected the list to be rejected');
  return r.message;
}

const HEX = '0123456789ABCDEF'.split('');
const hexDigit = fc.constantFrom(...HEX);
const validBase = fc
  .tuple(fc.constantFrom('P', 'C', 'B', 'U'), fc.constantFrom('0', '1', '2', '3'), hexDigit, hexDigit, hexDigit)
  .map((parts) => parts.join(''));
const failureType = fc.option(fc.tuple(hexDigit, hexDigit).map((p) => p.join('')), { nil: null });
const randomCase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((lower) =>
    [...s].map((ch, i) => (lower[i] ? ch.toLowerCase() : ch)).join(''),
  );

describe('parseDtcList', () => {
  it('accepts the codes from the API example unchanged', () => {
    assert.deepEqual(codesOf(['P0106', 'P0279']), ['P0106', 'P0279']);
  });

  it('upper-cases lowercase codes', () => {
    assert.deepEqual(codesOf(['p0279', 'u0100', 'c0a1f']), ['P0279', 'U0100', 'C0A1F']);
  });

  it('drops blank entries, including whitespace-only ones', () => {
    assert.deepEqual(codesOf(['', 'P0106', '   ', '\t']), ['P0106']);
  });

  it('trims blanks around a code', () => {
    assert.deepEqual(codesOf([' P0106 ']), ['P0106']);
  });

  it('answers an empty list with no codes', () => {
    assert.deepEqual(codesOf([]), []);
    assert.deepEqual(codesOf(['', '']), []);
  });

  it('keeps a repeated code once, at its first position', () => {
    assert.deepEqual(codesOf(['P0420', 'P0106', 'p0420', 'P0106']), ['P0420', 'P0106']);
  });

  it('treats the dashed and glued failure-type forms as the same code', () => {
    assert.deepEqual(codesOf(['P0106-1C', 'p01061c']), ['P0106-1C']);
  });

  it('keeps a code with a failure-type byte apart from the bare code', () => {
    assert.deepEqual(codesOf(['P0106', 'P0106-1C']), ['P0106', 'P0106-1C']);
  });

  it('splits the failure-type byte from the base code', () => {
    const r = parseDtcList(['p0106-1c', 'P0300']);
    assert.ok(r.ok);
    assert.deepEqual(r.codes, [
      { code: 'P0106-1C', base: 'P0106', failureType: '1C' },
      { code: 'P0300', base: 'P0300', failureType: null },
    ]);
  });

  it('accepts exactly 100 entries', () => {
    assert.equal(codesOf(Array.from({ length: MAX_CODES_PER_REQUEST }, () => 'P0300')).length, 1);
  });

  it('rejects more than 100 entries, counting blanks too', () => {
    const list = [...Array.from({ length: 100 }, () => ''), 'P0300'];
    assert.match(messageOf(list), /Too many error codes.*100 or below/);
  });

  it('rejects a code with a Z system letter, naming it', () => {
    assert.match(messageOf(['P0106', 'Z0100']), /"Z0100"/);
  });

  it('rejects a failure-type byte that is not hex, naming the code', () => {
    assert.match(messageOf(['P01067X']), /Invalid error code "P01067X"/);
  });

  it('rejects a second digit above 3', () => {
    assert.match(messageOf(['P4000']), /"P4000"/);
  });

  it('rejects codes of the wrong length', () => {
    for (const bad of ['P010', 'P01061', 'P0106-1', 'P0106-1CC', 'P0106--1C', 'P0 106']) {
      assert.match(messageOf([bad]), /Invalid error code/, bad);
    }
  });

  it('does not let a non-ASCII letter upper-case into a valid code', () => {
    // U+FB00 (the "ff" ligature) upper-cases to "FF".
    assert.match(messageOf(['P0106\uFB00']), /Invalid error code/);
  });

  it('rejects non-string entries, naming their position and type', () => {
    assert.match(messageOf(['P0106', 106]), /errorCodes\[1\] must be a string, got number/);
    assert.match(messageOf([null]), /errorCodes\[0\] must be a string, got null/);
    assert.match(messageOf([{ code: 'P0106' }]), /got an object/);
    assert.match(messageOf([['P0106']]), /got a list/);
  });

  it('rejects a value that is not a list', () => {
    assert.match(messageOf('P0106'), /must be a list/);
    assert.match(messageOf(undefined), /must be a list/);
    assert.match(messageOf({ errorCodes: ['P0106'] }), /must be a list/);
  });

  it('cuts a long bad entry short in the message', () => {
    const message = messageOf(['X'.repeat(100_000)]);
    assert.ok(message.length < 400, `message is ${message.length} characters`);
    assert.match(message, /"X{40}…"/);
  });

  it('normalises any valid code in any case, with or without a dash before the failure type', () => {
    fc.assert(
      fc.property(
        validBase.chain((base) => fc.tuple(fc.constant(base), failureType, fc.boolean(), randomCase(base))),
        ([base, ftb, dashed, cased]) => {
          const raw = ftb === null ? cased : `${cased}${dashed ? '-' : ''}${ftb.toLowerCase()}`;
          const parsed = parseDtc(raw);
          assert.ok(parsed, raw);
          assert.deepEqual(parsed, { code: ftb === null ? base : `${base}-${ftb}`, base, failureType: ftb });
          // The normalised form parses to itself.
          assert.deepEqual(parseDtc(parsed.code), parsed);
        },
      ),
    );
  });

  it('accepts any list of valid codes and blanks, keeping each normalised code once in first-seen order', () => {
    const entry = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t') },
      { weight: 4, arbitrary: validBase.chain(randomCase) },
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: MAX_CODES_PER_REQUEST }), (list) => {
        const expected = [...new Set(list.filter((s) => s.trim() !== '').map((s) => s.toUpperCase()))];
        assert.deepEqual(codesOf(list), expected);
      }),
    );
  });

  it('never throws on junk and either accepts normalised codes or names the problem', () => {
    const junk = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.anything(),
      fc.stringMatching(/^[PCBUZpcbuz][0-9][0-9A-Za-z]{3}-?[0-9A-Za-z]{0,3}$/),
    );
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 120 }), (list) => {
        const r = parseDtcList(list);
        if (r.ok) {
          for (const c of r.codes) assert.match(c.code, /^[PCBU][0-3][0-9A-F]{3}(-[0-9A-F]{2})?$/);
          assert.equal(new Set(r.codes.map((c) => c.code)).size, r.codes.length);
        } else {
          assert.ok(r.message.length > 0);
          assert.match(r.message, /Too many|must be a string|Invalid error code "/);
        }
      }),
    );
  });
});
