// DELETE /v1/user/devices/{id}: what blocks a delete (minted, minting, paired) and what a delete
// takes along (error-code history) or leaves behind unlinked (documents).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';
import { insertPairedDevice, insertRequest, insertVehicle } from '../helpers/vehicles.ts';
import { documents, errorCodeQueries, userDevices } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';

const ALICE_ADDR = '0x1111111111111111111111111111111111111111';

describe('deleting vehicles', () => {
  let t: TestApp;
  let alice: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    alice = await t.token('alice', ALICE_ADDR);
  });
  after(() => t.close());

  const del = (id: string) => t.request('DELETE', `/v1/user/devices/${id}`, { token: alice });
  const exists = async (id: string) => (await t.database.db.select().from(userDevices).where(eq(userDevices.id, id))).length === 1;

  it('deletes an unminted vehicle with 204 and an empty body, then answers 404', async () => {
    const id = await insertVehicle(t.database.db, { userId: 'alice' });
    const r = await del(id);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.ok(r.headers.get('x-request-id'));
    assert.equal(await exists(id), false);
    assertError(await del(id), 404, { error: 'NOT_FOUND' });
    const me = await t.request('GET', '/v1/user/devices/me', { token: alice });
    assert.ok(!me.json.userDevices.some((d: any) => d.id === id));
  });

  it('answers 409 telling to burn the NFT first for a minted vehicle, and keeps it', async () => {
    const id = await insertVehicle(t.database.db, { userId: 'alice', tokenId: 9001n, ownerAddress: ALICE_ADDR });
    assertError(await del(id), 409, { error: 'CONFLICT', message: /[Bb]urn/ });
    assert.equal(await exists(id), true);
  });

  it('answers 409 while the mint is in flight, whatever its stage', async () => {
    for (const status of ['Unsubmitted', 'Submitted', 'Mined', 'Confirmed']) {
      const mintRequestId = await insertRequest(t.database.db, { kind: 'MintVehicle', status, userId: 'alice' });
      const id = await insertVehicle(t.database.db, { userId: 'alice', mintRequestId });
      assertError(await del(id), 409, { error: 'CONFLICT', message: /mint/i });
      assert.equal(await exists(id), true, status);
    }
  });

  it('allows deleting a vehicle whose mint failed', async () => {
    const mintRequestId = await insertRequest(t.database.db, { kind: 'MintVehicle', status: 'Failed', userId: 'alice', failureReason: 'reverted' });
    const id = await insertVehicle(t.database.db, { userId: 'alice', mintRequestId });
    assert.equal((await del(id)).status, 204);
    assert.equal(await exists(id), false);
  });

  it('answers 409 telling to unpair first when an aftermarket device is paired', async () => {
    const id = await insertVehicle(t.database.db, { userId: 'alice', tokenId: 9002n, ownerAddress: ALICE_ADDR });
    await insertPairedDevice(t.database.db, { tokenId: 77n, vehicleTokenId: 9002n, serial: 'AM-0001', address: '0x2222222222222222222222222222222222222222', ownerAddress: ALICE_ADDR });
    const e = assertError(await del(id), 409, { error: 'CONFLICT', message: /unpair/i });
    assert.match(e.message, /AM-0001/);
    assert.equal(await exists(id), true);
  });

  it('deletes the vehicle\'s error-code history with it', async () => {
    const db = t.database.db;
    const id = await insertVehicle(db, { userId: 'alice' });
    const queryId = newKsuid();
    await db.insert(errorCodeQueries).values({
      id: queryId,
      userDeviceId: id,
      codes: [{ code: 'P0106', description: 'MAP sensor', system: 'Powertrain', definedBy: 'SAE', subsystem: 'Fuel and air metering' }],
    });
    assert.equal((await del(id)).status, 204);
    assert.deepEqual(await db.select().from(errorCodeQueries).where(eq(errorCodeQueries.id, queryId)), []);
  });

  it('keeps the vehicle\'s documents, unlinked from it', async () => {
    const db = t.database.db;
    const id = await insertVehicle(db, { userId: 'alice' });
    const docId = newKsuid();
    await db.insert(documents).values({
      id: docId,
      userId: 'alice',
      userDeviceId: id,
      name: 'Title',
      type: 'VehicleTitle',
      ext: 'pdf',
      contentType: 'application/pdf',
      size: 4,
      sha256: '0'.repeat(64),
      blobKey: `test/${docId}`,
    });
    assert.equal((await del(id)).status, 204);
    const [doc] = await db.select().from(documents).where(eq(documents.id, docId));
    assert.ok(doc, 'the document was deleted with the vehicle');
    assert.equal(doc.userDeviceId, null);
    assert.equal(doc.name, 'Title');
  });

  it("answers 409 to the NFT owner of a minted vehicle someone else registered, and 404 to a stranger", async () => {
    const id = await insertVehicle(t.database.db, { userId: 'someone-else', tokenId: 9003n, ownerAddress: ALICE_ADDR });
    assertError(await del(id), 409, { message: /[Bb]urn/ });
    assertError(await t.request('DELETE', `/v1/user/devices/${id}`, { token: await t.token('bob') }), 404);
  });
});
