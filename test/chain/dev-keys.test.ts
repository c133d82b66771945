import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDevKeyDeriver, DEMO_DEVICES, DEV_DEVICE_MNEMONIC } from '../../src/chain/dev-keys.ts';
import { DEFAULT_ANVIL_MNEMONIC } from '../../src/chain/anvil.ts';

describe('dev device keys', () => {
  const keys = createDevKeyDeriver();

  it('derive the same key for a serial every time, so dev sign finds it later', () => {
    assert.equal(createDevKeyDeriver().keyFor('demo-autopi-1'), keys.keyFor('demo-autopi-1'));
    assert.match(keys.keyFor('demo-autopi-1'), /^0x[0-9a-f]{64}$/);
  });

  it('give every demo device its own address', () => {
    const addresses = new Set(DEMO_DEVICES.map((d) => keys.accountFor(d.serial).address));
    assert.equal(addresses.size, DEMO_DEVICES.length);
  });

  it('normalise the serial first, as the API does (UUID serials are case-insensitive)', () => {
    const uuid = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
    assert.equal(keys.keyFor(uuid), keys.keyFor(uuid.toLowerCase()));
    assert.equal(keys.keyFor('  abc '), keys.keyFor('abc'));
    assert.notEqual(keys.keyFor('ABC'), keys.keyFor('abc'));
  });

  it('depend on the mnemonic, which differs from anvil\'s', () => {
    assert.notEqual(DEV_DEVICE_MNEMONIC, DEFAULT_ANVIL_MNEMONIC);
    assert.notEqual(createDevKeyDeriver(DEFAULT_ANVIL_MNEMONIC).keyFor('x'), keys.keyFor('x'));
  });

  it('refuse a serial the API would refuse', () => {
    assert.throws(() => keys.keyFor('   '), /not a valid serial/);
  });
});
