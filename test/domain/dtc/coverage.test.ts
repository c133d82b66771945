import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDtcCatalog, describeDtc } from '../../../src/domain/dtc/catalog.ts';
import { GENERIC_BLOCKS, genericCodes } from '../../../src/domain/dtc/generic-ranges.ts';
import type { GenericRange } from '../../../src/domain/dtc/generic-ranges.ts';
import { decodeDtc } from '../../../src/domain/dtc/structure.ts';

const catalog = createDtcCatalog();
const RANGES = Object.keys(GENERIC_BLOCKS) as GenericRange[];
// The bar issue 10 sets: at least this share of each range's SAE-assigned codes has a title.
const BAR = 0.95;

function coverage(range: GenericRange): { titled: number; total: number; missing: string[] } {
  const codes = genericCodes(range);
  const missing = codes.filter((code) => catalog.title(code) === undefined);
  return { titled: codes.length - missing.length, total: codes.length, missing };
}

describe('bundled DTC titles cover the SAE-assigned codes', () => {
  // The denominator is GENERIC_BLOCKS: the numbers of each range J2012 assigns, as far as this
  // project states them (see generic-ranges.ts); the numerator counts the table's own titles.
  for (const range of RANGES) {
    it(`gives a specific title to at least 95 % of the ${range} codes`, () => {
      const { titled, total, missing } = coverage(range);
      assert.ok(total > 0, `no ${range} codes counted`);
      assert.ok(
        titled / total >= BAR,
        `${range}: ${titled} of ${total} titled (${((100 * titled) / total).toFixed(1)} %); untitled: ${missing.join(' ')}`,
      );
    });
  }

  it('counts only SAE-defined codes of the range each block is filed under, each once', () => {
    const seen = new Set<string>();
    for (const range of RANGES) {
      for (const code of genericCodes(range)) {
        assert.equal(code.slice(0, 2), range.slice(0, 2), `${code} filed under ${range}`);
        assert.equal(decodeDtc(code).definedBy, 'SAE', `${code} is manufacturer-defined`);
        assert.ok(!seen.has(code), `${code} counted twice`);
        seen.add(code);
      }
    }
  });

  it('counts the blocks in their own numbering: decimal, or hex where J2012 uses letters', () => {
    assert.deepEqual(genericCodes('P3').slice(0, 2), ['P3400', 'P3401']);
    assert.equal(genericCodes('P0').length, 999);
    assert.ok(genericCodes('B0').includes('B002A'));
    assert.ok(genericCodes('P2').includes('P2A05'));
    assert.ok(!genericCodes('P0').includes('P000A'));
  });
});

describe('titles drivers see', () => {
  const title = (code: string) => describeDtc(code, { catalog }).description;
  it('names restraint codes by seat, stage and part', () => {
    assert.match(title('B0001'), /^Driver frontal airbag stage 1 deployment control/);
    assert.match(title('B0012'), /passenger frontal airbag stage 3/i);
    assert.match(title('B0029'), /right curtain airbag \(seat row 1\)/i);
    assert.match(title('B0072'), /pretensioner \(front passenger\)/i);
    assert.match(title('B0081'), /occupant classification/i);
    assert.match(title('B00DF'), /passenger airbag deactivation switch/i);
  });

  it('names chassis codes by wheel and component', () => {
    assert.match(title('C0035'), /^Left front wheel speed sensor: circuit fault$/);
    assert.match(title('C0040'), /^Right front wheel speed sensor/);
    assert.match(title('C0052'), /^Right rear wheel speed sensor: circuit low$/);
    assert.match(title('C0060'), /left front ABS inlet \(isolation\) valve/i);
    assert.match(title('C0095'), /right rear ABS outlet \(dump\) valve/i);
    assert.match(title('C0110'), /ABS pump motor/);
    assert.match(title('C0156'), /right front traction control valve 2/i);
    assert.match(title('C0196'), /yaw rate sensor/i);
    assert.match(title('C0242'), /traction control/i);
  });

  it('names network and powertrain codes the issue lists', () => {
    assert.match(title('U0100'), /lost communication with the engine\/powertrain control module \(ECM\/PCM\) A/i);
    assert.match(title('U0150'), /gateway E/);
    assert.match(title('U0176'), /restraints system sensor G/);
    assert.equal(title('P2096'), 'Post-catalyst fuel trim (bank 1): system too lean');
    assert.equal(title('P2097'), 'Post-catalyst fuel trim (bank 1): system too rich');
    assert.match(title('P2646'), /rocker arm actuator A \(bank 1\): performance problem or stuck off/i);
    assert.match(title('P2812'), /pressure control solenoid H/i);
  });

  it('keeps C1, B1 and U1 codes manufacturer-specific', () => {
    for (const code of ['C1035', 'B1001', 'U1100']) {
      assert.equal(catalog.title(code), undefined, code);
      assert.match(title(code), /^Manufacturer-specific/, code);
    }
  });
});
