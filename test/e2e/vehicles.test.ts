import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.ts';

const ALICE_ADDR = '0x1111111111111111111111111111111111111111';

describe('vehicles over HTTP', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  before(async () => {
    t = await createTestApp();
    alice = await t.token('alice', ALICE_ADDR);
    bob = await t.token('bob');
  });
  after(() => t.close());

  it('registers a vehicle from a VIN decoded offline', async () => {
    const r = await t.request('POST', '/v1/user/devices/fromvin', { token: alice, body: { vin: '1hgcm82633a004352', countryCode: 'usa' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.userDevice.vin, '1HGCM82633A004352');
    assert.equal(r.json.userDevice.countryCode, 'USA');
    assert.equal(r.json.userDevice.deviceDefinition.make.name, 'Honda');
  });

  it("returns 404 when bob deletes alice's vehicle", async () => {
    const r = await t.request('POST', '/v1/user/devices', { token: alice, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(r.status, 201);
    const id = r.json.userDevice.id;
    assert.equal((await t.request('DELETE', `/v1/user/devices/${id}`, { token: bob })).status, 404);
    assert.equal((await t.request('DELETE', `/v1/user/devices/${id}`, { token: alice })).status, 204);
  });
});
