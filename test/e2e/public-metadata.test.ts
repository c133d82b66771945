import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aftermarketDevices, syntheticDevices } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertVehicle } from '../helpers/vehicles.ts';

const DEVICE = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';

describe('public NFT metadata', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    const db = t.database.db;
    await db.insert(aftermarketDevices).values({ tokenId: 7n, serial: 'SER-1', address: DEVICE.toLowerCase(), manufacturerTokenId: 1n, manufacturerName: 'AutoPi' });
    const id = await insertVehicle(db, { userId: 'alice', tokenId: 42n });
    await db.insert(syntheticDevices).values({ id: newKsuid(), userDeviceId: id, integrationTokenId: 1n, vehicleTokenId: 42n, walletChildIndex: 1, address: '0x1111111111111111111111111111111111111111', tokenId: 9n });
  });
  after(() => t.close());

  it('describes an aftermarket device by token id with its three-word name, without a token', async () => {
    const r = await t.request('GET', '/v1/aftermarket/device/7');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'whisper garage brother');
    assert.equal(r.json.description, 'whisper garage brother, a DIMO hardware device.');
    assert.equal(r.json.image, 'http://api.test/v1/aftermarket/device/7/image');
    assert.deepEqual(r.json.attributes.slice(0, 2), [
      { trait_type: 'Ethereum Address', value: DEVICE },
      { trait_type: 'Serial Number', value: 'SER-1' },
    ]);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=60');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.ok(r.headers.get('etag'));
    // Exactly what the response schema's serializer writes: its property order, no whitespace.
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(Object.keys(r.json), ['name', 'description', 'image', 'attributes']);
    assert.equal(r.text, JSON.stringify(r.json));
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await t.request('GET', '/v1/aftermarket/device/7');
    const again = await t.request('GET', '/v1/aftermarket/device/7', { headers: { 'if-none-match': first.headers.get('etag')! } });
    assert.equal(again.status, 304);
  });

  it('finds the same device by address in any case', async () => {
    const r = await t.request('GET', `/v1/aftermarket/device/by-address/${DEVICE.toLowerCase()}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'whisper garage brother');
  });

  it('rejects a malformed address with 400', async () => {
    const r = await t.request('GET', '/v1/aftermarket/device/by-address/0x123');
    assert.equal(r.status, 400);
  });

  it('serves a PNG image for a device of any manufacturer', async () => {
    const res = await fetch(`${t.url}/v1/aftermarket/device/7/image`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  it('describes a vehicle and a synthetic device', async () => {
    const v = await t.request('GET', '/v1/vehicle/42');
    assert.equal(v.status, 200);
    assert.equal(v.json.name, 'Ford Bronco 2021');
    assert.equal(v.json.description, 'Ford Bronco 2021, a DIMO vehicle.');
    const s = await t.request('GET', '/v1/synthetic/device/9');
    assert.equal(s.status, 200);
    assert.equal(s.json.description, `${s.json.name}, a DIMO synthetic device.`);
    assert.ok(s.json.attributes.some((a: any) => a.trait_type === 'Vehicle' && a.value === '42'));
    const img = await fetch(`${t.url}/v1/vehicle/42/image`);
    assert.equal(img.headers.get('content-type'), 'image/png');
  });

  it('answers 404 for unknown tokens and 400 for token ids with signs, hex or 79 digits', async () => {
    assert.equal((await t.request('GET', '/v1/aftermarket/device/8')).status, 404);
    assert.equal((await t.request('GET', '/v1/vehicle/8/image')).status, 404);
    for (const bad of ['-1', '0x10', '+5', '1'.repeat(79)]) {
      const r = await t.request('GET', `/v1/aftermarket/device/${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json.code, 400);
    }
  });
});
