import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDtc } from '../../../src/domain/dtc/structure.ts';
import { describeFailureType } from '../../../src/domain/dtc/failure-type.ts';

const hexDigit = fc.constantFrom(...'0123456789ABCDEF'.split(''));
const anyCode = fc
  .tuple(fc.constantFrom('P', 'C', 'B', 'U'), fc.constantFrom('0', '1', '2', '3'), hexDigit, hexDigit, hexDigit)
  .map((parts) => parts.join(''));

describe('decodeDtc', () => {
  it('names the system from the first letter', () => {
    assert.equal(decodeDtc('P0106').system, 'Powertrain');
    assert.equal(decodeDtc('C0035').system, 'Chassis');
    assert.equal(decodeDtc('B0001').system, 'Body');
    assert.equal(decodeDtc('U0100').system, 'Network');
  });

  it('treats P0 and P2 as SAE-defined and P1 as manufacturer-defined', () => {
    assert.equal(decodeDtc('P0420').definedBy, 'SAE');
    assert.equal(decodeDtc('P2096').definedBy, 'SAE');
    assert.equal(decodeDtc('P1234').definedBy, 'Manufacturer');
  });

  it('splits P3: P3000-P33FF manufacturer, P3400 and above SAE', () => {
    for (const code of ['P3000', 'P3100', 'P32AB', 'P33FF']) assert.equal(decodeDtc(code).definedBy, 'Manufacturer', code);
    for (const code of ['P3400', 'P3497', 'P3500', 'P39FF']) assert.equal(decodeDtc(code).definedBy, 'SAE', code);
  });

  it('gives the second digits 1 and 2 of B, C and U codes to manufacturers', () => {
    for (const code of ['B1000', 'B2000', 'C1234', 'C2FFF', 'U1000', 'U2100']) {
      assert.equal(decodeDtc(code).definedBy, 'Manufacturer', code);
    }
    for (const code of ['B0001', 'B3000', 'C0035', 'C3000', 'U0100', 'U3000']) assert.equal(decodeDtc(code).definedBy, 'SAE', code);
  });

  it('reads the P0 subsystem from the third character', () => {
    const want: Record<string, RegExp> = {
      P0010: /fuel and air metering and auxiliary emission/i,
      P0106: /^fuel and air metering$/i,
      P0279: /injector/i,
      P0301: /ignition|misfire/i,
      P0420: /auxiliary emission/i,
      P0505: /idle/i,
      P0606: /computer/i,
      P0700: /transmission/i,
      P0850: /transmission/i,
      P0999: /transmission/i,
      P0A80: /hybrid/i,
    };
    for (const [code, re] of Object.entries(want)) assert.match(decodeDtc(code).subsystem, re, code);
  });

  it('reads the U0 subsystem from the third character', () => {
    assert.match(decodeDtc('U0001').subsystem, /electrical/i);
    assert.match(decodeDtc('U0100').subsystem, /communication/i);
    assert.match(decodeDtc('U0301').subsystem, /software/i);
    assert.match(decodeDtc('U0401').subsystem, /data/i);
  });

  it('calls P34xx cylinder deactivation and the rest of the SAE P3 range reserved', () => {
    assert.match(decodeDtc('P3401').subsystem, /cylinder deactivation/i);
    assert.match(decodeDtc('P3600').subsystem, /reserved/i);
  });

  it('decodes the failure-type byte when one is given', () => {
    const d = decodeDtc('p0106-1c');
    assert.equal(d.code, 'P0106-1C');
    assert.equal(d.base, 'P0106');
    assert.match(d.failureTypeMeaning ?? '', /1C: circuit voltage out of range/);
    assert.equal(decodeDtc('P0106').failureTypeMeaning, null);
  });

  it('refuses a string that is not a code', () => {
    assert.throws(() => decodeDtc('Z0100'), RangeError);
  });

  it('decodes every valid code to a known system, owner and a non-empty subsystem', () => {
    fc.assert(
      fc.property(anyCode, (code) => {
        const d = decodeDtc(code);
        assert.ok(['Powertrain', 'Chassis', 'Body', 'Network'].includes(d.system));
        assert.ok(d.definedBy === 'SAE' || d.definedBy === 'Manufacturer');
        assert.ok(d.subsystem.length > 0);
      }),
    );
  });
});

describe('describeFailureType', () => {
  it('names specific failure types', () => {
    assert.match(describeFailureType('13'), /circuit open/);
    assert.match(describeFailureType('87'), /message missing/);
  });

  it('names the category of 01-09 and of unlisted bytes', () => {
    assert.match(describeFailureType('01'), /electrical failure/);
    assert.match(describeFailureType('09'), /component failure/);
    assert.match(describeFailureType('2A'), /signal failure/);
  });

  it('calls bytes above 9F manufacturer-specific', () => {
    assert.match(describeFailureType('A0'), /manufacturer-specific/);
    assert.match(describeFailureType('FF'), /manufacturer-specific/);
  });

  it('describes every byte', () => {
    for (let b = 0; b < 256; b++) {
      const byte = b.toString(16).toUpperCase().padStart(2, '0');
      assert.match(describeFailureType(byte), new RegExp(`^failure type ${byte}: \\S`));
    }
  });
});
