import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeviceList } from '../../src/domain/device-list.ts';

const A = '0x1111111111111111111111111111111111111111';
const B = '0x2222222222222222222222222222222222222222';

describe('parseDeviceList', () => {
  it('reads serial,address lines, skipping a header, blank lines and comments', () => {
    const r = parseDeviceList(`serial,address\n# first batch\n\n s-1 , ${A}\r\ns-2,${B.toUpperCase().replace('0X', '0x')}\n`, { addressRequired: true });
    assert.ok(r.ok);
    assert.deepEqual(r.devices, [
      { serial: 's-1', address: A },
      { serial: 's-2', address: B },
    ]);
  });

  it('takes serials alone when addresses come from dev keys', () => {
    const r = parseDeviceList('serial\nd-1\nd-2', { addressRequired: false });
    assert.ok(r.ok);
    assert.deepEqual(r.devices.map((d) => [d.serial, d.address]), [['d-1', undefined], ['d-2', undefined]]);
  });

  it('reports every bad line by number before anything is minted', () => {
    const r = parseDeviceList(`s-1,${A}\ns-2\ns-3,0x12\ns-1,${B}\ns-4,${A}\n,${B}\na,b,c`, { addressRequired: true });
    assert.ok(!r.ok);
    assert.deepEqual(r.problems, [
      'line 2: serial s-2 has no address (or use --dev-key)',
      'line 3: "0x12" is not an Ethereum address',
      'line 4: serial s-1 already on line 1',
      `line 5: address ${A} already on line 1`,
      'line 6: "" is not a valid serial (1–128 characters, no control characters)',
      'line 7: expected "serial,address", got 3 columns',
    ]);
  });

  it('refuses an address next to a dev-key serial', () => {
    const r = parseDeviceList(`d-1,${A}`, { addressRequired: false });
    assert.ok(!r.ok);
    assert.match(r.problems[0]!, /with --dev-key the address comes from the serial/);
  });

  it('refuses an empty list', () => {
    const r = parseDeviceList('serial,address\n\n', { addressRequired: true });
    assert.deepEqual(r, { ok: false, problems: ['no devices in the list'] });
  });
});
