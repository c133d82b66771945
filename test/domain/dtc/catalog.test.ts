import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDtcCatalog, describeDtc } from '../../../src/domain/dtc/catalog.ts';
import type { DtcOverrides } from '../../../src/domain/dtc/catalog.ts';
import { parseDtc } from '../../../src/domain/dtc/code.ts';
import { decodeDtc } from '../../../src/domain/dtc/structure.ts';

const catalog = createDtcCatalog();
const describe1 = (code: string, make?: string, overrides?: DtcOverrides) =>
  describeDtc(code, { catalog, make, overrides }).description;

const hexDigit = fc.constantFrom(...'0123456789ABCDEF'.split(''));
const anyCode = fc
  .tuple(fc.constantFrom('P', 'C', 'B', 'U'), fc.constantFrom('0', '1', '2', '3'), hexDigit, hexDigit, hexDigit)
  .map((parts) => parts.join(''));

describe('bundled DTC table', () => {
  it('has a specific title for at least 2,000 SAE-defined codes', () => {
    const specific = catalog.codes.filter((code) => {
      const d = describeDtc(code, { catalog });
      return d.definedBy === 'SAE' && d.description === catalog.title(code);
    });
    assert.ok(specific.length >= 2000, `only ${specific.length} SAE-defined codes have a specific title`);
  });

  it('lists only normalised five-character SAE-defined codes', () => {
    for (const code of catalog.codes) {
      const parsed = parseDtc(code);
      assert.equal(parsed?.code, code, `${code} is not a normalised code`);
      assert.equal(parsed.failureType, null, `${code} carries a failure-type byte`);
      assert.equal(decodeDtc(code).definedBy, 'SAE', `${code} is manufacturer-defined`);
    }
  });

  it('covers every SAE family the issue names', () => {
    for (const prefix of ['P0', 'P2', 'P34', 'B0', 'C0', 'U0']) {
      assert.ok(
        catalog.codes.some((c) => c.startsWith(prefix)),
        `no titles for ${prefix}xxx`,
      );
    }
  });

  it('gives no two codes the same title, so no family was numbered onto another', () => {
    const byTitle = new Map<string, string>();
    for (const code of catalog.codes) {
      const title = catalog.title(code) ?? '';
      assert.ok(title.trim().length > 0, `${code} has an empty title`);
      assert.equal(byTitle.get(title), undefined, `${code} repeats the title of ${byTitle.get(title)}: ${title}`);
      byTitle.set(title, code);
    }
  });

  it('describes the codes the acceptance check submits', () => {
    assert.match(describe1('P0106'), /manifold|MAP|pressure/i);
    assert.match(describe1('P0279'), /injector|cylinder 7/i);
    assert.match(describe1('U0100'), /communication|ECM|PCM/i);
    assert.match(describe1('P0420'), /catalyst/i);
    assert.match(describe1('P0301'), /misfire/i);
    for (const code of ['P1234', 'C0035', 'B0001']) assert.ok(describe1(code).trim().length > 0, code);
  });

  it('numbers the per-cylinder and per-unit families to their last member', () => {
    const want: Record<string, RegExp> = {
      P0212: /cylinder 12 fuel injector.*open/i,
      P0279: /cylinder 7 fuel injector.*low/i,
      P0296: /cylinder 12 fuel injector.*contribution/i,
      P0312: /cylinder 12 misfire/i,
      P0362: /ignition coil L/i,
      P0682: /cylinder 12 glow plug/i,
      P2335: /ignition coil L.*secondary/i,
      P2347: /cylinder 12.*knock/i,
      P3496: /cylinder 12 exhaust valve.*high/i,
      P3497: /deactivation.*bank 2/i,
      P0167: /bank 2, sensor 3.*heater/i,
      P0175: /rich.*bank 2/i,
      P0999: /shift solenoid F.*high/i,
      U0072: /bus E.*\(−\) line shorted to the \(\+\) line/i,
      U0077: /bus E off/i,
      U0235: /distance/i,
      U0431: /invalid data.*body control module A/i,
    };
    for (const [code, re] of Object.entries(want)) assert.match(describe1(code), re, code);
  });

  it('builds an immutable table, the same on every call', () => {
    const again = createDtcCatalog();
    assert.deepEqual(again.codes, catalog.codes);
    assert.ok(Object.isFrozen(catalog) && Object.isFrozen(catalog.codes));
  });
});

describe('describeDtc', () => {
  it('returns the normalised code with its structure', () => {
    assert.deepEqual(describeDtc('p0420', { catalog }), {
      code: 'P0420',
      description: catalog.title('P0420'),
      system: 'Powertrain',
      definedBy: 'SAE',
      subsystem: 'Auxiliary emission controls',
    });
  });

  it('appends the meaning of a failure-type byte to the title', () => {
    const d = describeDtc('P0106-1C', { catalog });
    assert.equal(d.code, 'P0106-1C');
    assert.equal(d.description, `${catalog.title('P0106')} (failure type 1C: circuit voltage out of range)`);
  });

  it('explains a manufacturer code by its structure, naming the make when known', () => {
    assert.match(describe1('P1234'), /manufacturer-specific powertrain code.*fuel and air metering.*vehicle manufacturer/i);
    assert.match(describe1('P1234', 'Ford'), /defined by Ford$/);
    assert.match(describe1('B1000'), /manufacturer-specific body code/i);
  });

  it('explains an SAE code without a bundled title by its group', () => {
    assert.equal(catalog.title('P0A50'), undefined);
    assert.match(describe1('P0A50'), /SAE-defined powertrain code in the hybrid/i);
  });

  it('says when a code lies in a range SAE has reserved', () => {
    assert.match(describe1('U3000'), /reserves for future use/);
    assert.match(describe1('P3600'), /reserves for future use/);
  });

  it('prefers an imported title for the make, then one for all makes, then the bundled title', () => {
    const rows = new Map([
      ['P0420\tford', 'Ford catalyst text'],
      ['P0420\t', 'Generic imported catalyst text'],
      ['P1234\tford', 'Ford-specific P1234 text'],
    ]);
    const overrides: DtcOverrides = (code, make) => rows.get(`${code}\t${make ?? ''}`);
    assert.equal(describe1('P0420', ' FORD ', overrides), 'Ford catalyst text');
    assert.equal(describe1('P0420', 'Toyota', overrides), 'Generic imported catalyst text');
    assert.equal(describe1('P0420', undefined, overrides), 'Generic imported catalyst text');
    assert.equal(describe1('P1234', 'ford', overrides), 'Ford-specific P1234 text');
    assert.equal(describe1('P0301', 'ford', overrides), catalog.title('P0301'));
  });

  it('asks the overrides for the base code and the normalised make', () => {
    const asked: [string, string | null][] = [];
    describeDtc('p0106-1c', { catalog, make: '  Land   Rover ', overrides: (code, make) => void asked.push([code, make]) });
    assert.deepEqual(asked, [
      ['P0106', 'land rover'],
      ['P0106', null],
    ]);
  });

  it('ignores a blank imported title', () => {
    assert.equal(describe1('P0420', 'ford', () => '   '), catalog.title('P0420'));
  });

  it('never gives an empty description for any valid code, make or failure type', () => {
    fc.assert(
      fc.property(anyCode, fc.option(fc.string()), fc.option(hexDigit.chain((a) => hexDigit.map((b) => a + b))), (code, make, ftb) => {
        const full = ftb === null ? code : `${code}-${ftb}`;
        const d = describeDtc(full, { catalog, make });
        assert.equal(d.code, full);
        assert.ok(d.description.trim().length > 0);
        assert.ok(d.subsystem.length > 0);
      }),
    );
  });
});
