import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_IMPORTED_DESCRIPTION, parseDtcImportTsv } from '../../../src/domain/dtc/import-tsv.ts';
import type { DtcImportError, DtcImportRow } from '../../../src/domain/dtc/import-tsv.ts';

function rowsOf(text: string): DtcImportRow[] {
  const r = parseDtcImportTsv(text);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
  return r.rows;
}

function errorsOf(text: string): DtcImportError[] {
  const r = parseDtcImportTsv(text);
  assert.ok(!r.ok, 'expected the file to be rejected');
  return r.errors;
}

describe('parseDtcImportTsv', () => {
  it('reads code, make and description per line, an empty make meaning every make', () => {
    assert.deepEqual(rowsOf('P0420\t\tCatalyst below threshold, bank 1\nP1234\tFord\tSome Ford code\n'), [
      { code: 'P0420', make: null, description: 'Catalyst below threshold, bank 1' },
      { code: 'P1234', make: 'ford', description: 'Some Ford code' },
    ]);
  });

  it('normalises code case, make case and blanks', () => {
    assert.deepEqual(rowsOf(' p1234 \t  Land  Rover \t  Some   text  '), [
      { code: 'P1234', make: 'land rover', description: 'Some text' },
    ]);
  });

  it('skips blank lines, comments, a header and a byte-order mark, and reads CRLF files', () => {
    const text = '\uFEFFcode\tmake\tdescription\r\n# exported from somewhere\r\n\r\nP0300\t\tMisfire\r\n';
    assert.deepEqual(rowsOf(text), [{ code: 'P0300', make: null, description: 'Misfire' }]);
  });

  it('keeps tabs inside a description as part of it', () => {
    assert.deepEqual(rowsOf('P0300\t\tRandom\tmisfire'), [{ code: 'P0300', make: null, description: 'Random misfire' }]);
  });

  it('accepts an empty file', () => {
    assert.deepEqual(rowsOf(''), []);
  });

  it('reports every bad line with its number', () => {
    const text = ['P0300\t\tMisfire', 'Z0100\t\tNot a code', 'P0301\tMisfire without make column', 'P0302\t\t', 'P0303-1C\t\tWith byte'].join('\n');
    const errors = errorsOf(text);
    assert.deepEqual(
      errors.map((e) => e.line),
      [2, 3, 4, 5],
    );
    assert.match(errors[0]?.message ?? '', /"Z0100" is not a DTC/);
    assert.match(errors[1]?.message ?? '', /expected 3 tab-separated fields/);
    assert.match(errors[2]?.message ?? '', /P0302: description is empty/);
    assert.match(errors[3]?.message ?? '', /failure-type byte/);
  });

  it('rejects control characters and over-long descriptions', () => {
    assert.match(errorsOf('P0300\t\tMis\u0007fire')[0]?.message ?? '', /control characters/);
    assert.match(errorsOf('P0300\tFo\u0000rd\tMisfire')[0]?.message ?? '', /make contains control characters/);
    assert.match(errorsOf(`P0300\t\t${'x'.repeat(MAX_IMPORTED_DESCRIPTION + 1)}`)[0]?.message ?? '', /longer than/);
  });

  it('drops an exact repeat of a code and make but rejects a conflicting one', () => {
    assert.equal(rowsOf('P0300\tFord\tMisfire\np0300\tFORD\tMisfire').length, 1);
    const errors = errorsOf('P0300\tFord\tMisfire\nP0300\tford\tSomething else');
    assert.deepEqual(errors, [{ line: 2, message: 'P0300 for make "ford" already has a different description on line 1' }]);
  });

  it('keeps the same code for different makes apart', () => {
    assert.equal(rowsOf('P1234\tFord\tA\nP1234\tToyota\tB\nP1234\t\tC').length, 3);
  });

  it('never throws on arbitrary text and numbers every error within the file', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constant('P0300\t\tMisfire'), fc.constant('\t\t')), { maxLength: 30 }), (lines) => {
        const text = lines.join('\n');
        const r = parseDtcImportTsv(text);
        if (!r.ok) {
          const count = text.split(/\r?\n/).length;
          for (const e of r.errors) assert.ok(e.line >= 1 && e.line <= count && e.message.length > 0);
        }
      }),
    );
  });
});
