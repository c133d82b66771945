// GET /v1/aftermarket/device/by-serial/{serial} over HTTP with device rows as the indexer writes
// them: the access rule (anyone while unclaimed and unpaired; then the owner or the paired
// vehicle's owner; everyone else the same 404 as an unknown serial), serial normalisation, the
// AftermarketDeviceInfo fields, and request statuses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { getAddress } from 'viem';
import { aftermarketDevices } from '../../src/db/schema.ts';
import { deviceName } from '../../src/domain/device-name.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { insertRequest, insertVehicle } from '../helpers/vehicles.ts';

const ALICE = '0x90f79bf6eb2c4f870365e785982e1f101e93b906';
const BOB = '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65';
const DEVICE = '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc';
const NOT_FOUND = 'AftermarketDevice not minted, or serial is invalid.';

describe('GET /v1/aftermarket/device/by-serial/{serial}', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let carol: string;
  let noAddress: string;
  let token = 100n;

  before(async () => {
    t = await createTestApp();
    alice = await t.token('alice', getAddress(ALICE));
    bob = await t.token('bob', getAddress(BOB));
    carol = await t.token('carol', '0x0000000000000000000000000000000000000c0c');
    noAddress = await t.token('nobody');
  });
  after(async () => t?.close());

  async function device(serial: string, patch: Partial<typeof aftermarketDevices.$inferInsert> = {}) {
    token += 1n;
    const address = `0x${token.toString(16).padStart(40, 'a')}`;
    await t.database.db.insert(aftermarketDevices).values({
      tokenId: token,
      serial,
      address,
      manufacturerTokenId: 1n,
      manufacturerName: 'AutoPi',
      ...patch,
    });
    return { tokenId: token, address };
  }
  const get = (serial: string, tok: string | undefined) => t.request('GET', `/v1/aftermarket/device/by-serial/${encodeURIComponent(serial)}`, { token: tok });

  it('shows an unclaimed, unpaired device to any authenticated user, with checksummed addresses', async () => {
    const d = await device('am-open-1', { address: DEVICE, tokenId: 90071992547409931234n });
    for (const tok of [alice, bob, noAddress]) {
      const r = await get('am-open-1', tok);
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /"tokenId":90071992547409931234\b/, 'exact uint256 digits');
      assert.deepEqual(r.json, {
        serial: 'am-open-1',
        unitId: 'am-open-1',
        tokenId: 90071992547409931234,
        ethereumAddress: getAddress(DEVICE),
        ownerAddress: null,
        beneficiaryAddress: null,
        manufacturer: { tokenId: 1, name: 'AutoPi' },
        vehicleTokenId: null,
        userDeviceId: null,
        claim: null,
        pair: null,
        unpair: null,
        firmware: { releaseVersion: null, lastSeenAt: null, update: null },
        // The original API's top-level fields: nothing heard from the device cloud yet.
        isUpdated: null,
        shouldUpdate: null,
        releaseVersion: null,
        deviceName: deviceName(DEVICE),
      });
    }
    void d;
    assert.equal((await get('am-open-1', undefined)).status, 401);
  });

  it('answers the same 404 for unknown, malformed and hidden serials', async () => {
    await device('am-hidden-1', { ownerAddress: ALICE });
    for (const [serial, tok] of [
      ['no-such-serial', alice],
      ['am-hidden-1', bob],
      ['am-hidden-1', noAddress],
      ['   ', alice],
      ['bad\u0007serial', alice],
    ] as const) {
      const r = await get(serial, tok);
      assert.equal(r.status, 404, `${JSON.stringify(serial)}: ${r.text}`);
      assert.equal(r.json.message, NOT_FOUND);
      assert.equal(r.json.error, 'NOT_FOUND');
    }
  });

  it('normalises serials the same way as the indexer: trimmed, UUIDs in any case', async () => {
    await device('7f1f58b0-3c48-4a4b-9e6a-0d2e1c7f9a10');
    await device('CaseSensitive-9');
    for (const s of ['7F1F58B0-3C48-4A4B-9E6A-0D2E1C7F9A10', '  7f1f58b0-3C48-4a4b-9E6A-0d2e1c7f9a10 ']) {
      const r = await get(s, alice);
      assert.equal(r.status, 200, `${s}: ${r.text}`);
      assert.equal(r.json.serial, '7f1f58b0-3c48-4a4b-9e6a-0d2e1c7f9a10');
    }
    assert.equal((await get(' CaseSensitive-9 ', alice)).status, 200);
    assert.equal((await get('casesensitive-9', alice)).status, 404, 'non-UUID serials keep their case');
  });

  it('shows a claimed device to its owner (any address case) with the owner as beneficiary', async () => {
    await device('am-claimed-1', { ownerAddress: ALICE });
    const r = await get('am-claimed-1', await t.token('alice-other-login', ALICE.toUpperCase().replace('0X', '0x')));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ownerAddress, getAddress(ALICE));
    assert.equal(r.json.beneficiaryAddress, getAddress(ALICE));
  });

  it("shows a paired device to the paired vehicle's owner (by login or by wallet) and names their vehicle", async () => {
    await device('am-paired-1', { ownerAddress: ALICE, vehicleTokenId: 501n });
    const bobVehicle = await insertVehicle(t.database.db, { userId: 'bob', tokenId: 501n, ownerAddress: BOB });
    let r = await get('am-paired-1', bob);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.vehicleTokenId, 501);
    assert.equal(r.json.userDeviceId, bobVehicle);
    // By wallet only: another login holding bob's address.
    r = await get('am-paired-1', await t.token('bob-wallet-login', getAddress(BOB)));
    assert.equal(r.status, 200);
    assert.equal(r.json.userDeviceId, bobVehicle);
    // The device owner sees it too, without a vehicle of theirs.
    r = await get('am-paired-1', alice);
    assert.equal(r.status, 200);
    assert.equal(r.json.userDeviceId, null);
    assert.equal((await get('am-paired-1', carol)).status, 404);
  });

  it('shows the live status of the claim, pair and unpair requests; a pending claim only to its requester', async () => {
    const claimId = await insertRequest(t.database.db, { kind: 'Claim', status: 'Submitted', userId: 'alice', hash: `0x${'ab'.repeat(32)}` });
    await device('am-claiming-1', { claimRequestId: claimId });
    let r = await get('am-claiming-1', alice);
    assert.equal(r.status, 200);
    assert.equal(r.json.claim.requestId, claimId);
    assert.equal(r.json.claim.status, 'Submitted');
    assert.equal(r.json.claim.hash, `0x${'ab'.repeat(32)}`);
    r = await get('am-claiming-1', bob);
    assert.equal(r.status, 200, 'still unclaimed: readable by all');
    assert.equal(r.json.claim, null, "another user's pending claim is not shown");

    const pairId = await insertRequest(t.database.db, { kind: 'Pair', status: 'Failed', userId: 'alice', failureReason: 'Aftermarket device 7 is already paired.' });
    await device('am-pairfail-1', { ownerAddress: ALICE, pairRequestId: pairId });
    r = await get('am-pairfail-1', alice);
    assert.equal(r.json.pair.status, 'Failed');
    assert.equal(r.json.pair.failureReason, 'Aftermarket device 7 is already paired.');
    assert.equal('hash' in r.json.pair, false, 'no "0x" hash for a request that never reached the chain');
    assert.equal(r.json.unpair, null);
  });

  it('answers an over-long serial with the same 404', async () => {
    const r = await get('x'.repeat(150), alice);
    assert.equal(r.status, 404);
    const upd = await t.database.db.select().from(aftermarketDevices).where(eq(aftermarketDevices.serial, 'x'.repeat(150)));
    assert.equal(upd.length, 0);
  });
});
