// `dev sign` stands in for a device: it signs only what a device signs, and only for the device
// whose key the registry holds for the payload's aftermarketDeviceNode.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { recoverTypedDataAddress, zeroAddress, type Address } from 'viem';
import { devSign } from '../../src/cli/dev-sign.ts';
import { createDevKeyDeriver } from '../../src/chain/dev-keys.ts';
import {
  burnVehiclePayload,
  claimAftermarketDevicePayload,
  pairAftermarketDevicePayload,
  toViemTypedData,
  type TypedDataPayload,
} from '../../src/domain/eip712.ts';

const REGISTRY = { chainId: 31337, verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const OWNER = '0x1111111111111111111111111111111111111111';
const keys = createDevKeyDeriver();
const DEVICE_7 = keys.accountFor('demo-autopi-1').address;

/** A registry on which device node 7 has demo-autopi-1's key and no other node exists. */
const registry = async (node: bigint): Promise<Address> => (node === 7n ? DEVICE_7 : zeroAddress);

const sign = (serial: string, payload: TypedDataPayload) =>
  devSign({ serial, payloadText: JSON.stringify(payload), chainFile: undefined, deviceAddress: registry });

const recover = (payload: TypedDataPayload, signature: `0x${string}`) =>
  recoverTypedDataAddress({ ...(toViemTypedData(payload) as unknown as Parameters<typeof recoverTypedDataAddress>[0]), signature });

describe('dev sign', () => {
  it("signs a claim and a pairing with the key the registry holds for the payload's device", async () => {
    for (const payload of [
      claimAftermarketDevicePayload(REGISTRY, { aftermarketDeviceNode: 7n, owner: OWNER }),
      pairAftermarketDevicePayload(REGISTRY, { aftermarketDeviceNode: 7n, vehicleNode: 3n }),
    ]) {
      assert.equal(await recover(payload, await sign('demo-autopi-1', payload)), DEVICE_7);
    }
  });

  it("refuses a serial whose key is not the payload's device key, naming both", async () => {
    const payload = claimAftermarketDevicePayload(REGISTRY, { aftermarketDeviceNode: 7n, owner: OWNER });
    const other = keys.accountFor('demo-autopi-2').address;
    await assert.rejects(sign('demo-autopi-2', payload), {
      name: 'CliError',
      message: `The payload is for aftermarket device 7, whose key is ${DEVICE_7}, but the dev key of serial "demo-autopi-2" is ${other}; the registry would reject this signature. Pass the serial device 7 was minted with.`,
    });
  });

  it('refuses a payload for a device the registry does not have', async () => {
    const payload = claimAftermarketDevicePayload(REGISTRY, { aftermarketDeviceNode: 8n, owner: OWNER });
    await assert.rejects(sign('demo-autopi-1', payload), { name: 'CliError', message: 'The payload is for aftermarket device 8, which is not on the registry.' });
  });

  it('refuses a payload a device never signs', async () => {
    const payload = burnVehiclePayload(REGISTRY, { vehicleNode: 3n });
    await assert.rejects(sign('demo-autopi-1', payload), { name: 'CliError', message: /a device signs only ClaimAftermarketDeviceSign and PairAftermarketDeviceSign payloads, not BurnVehicleSign/ });
  });
});
