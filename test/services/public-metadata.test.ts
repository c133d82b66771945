import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { aftermarketDevices, userDevices } from '../../src/db/schema.ts';
import { aftermarketDeviceMetadata, metadataEtag } from '../../src/domain/nft-metadata.ts';
import { createPublicMetadataService } from '../../src/services/public-metadata.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertVehicle } from '../helpers/vehicles.ts';

const TTL = 10_000;
const BASE = 'http://api.test';
const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

describe('public metadata service: kept answers', () => {
  let database: TestDatabase;
  let t: number;
  const service = (cacheSize?: number) => createPublicMetadataService({ db: database.db, publicBaseUrl: BASE, now: () => t, ttlMs: TTL, cacheSize });
  const setSerial = (tokenId: bigint, serial: string) => database.db.update(aftermarketDevices).set({ serial }).where(eq(aftermarketDevices.tokenId, tokenId));
  const serialOf = (body: string | undefined) => JSON.parse(body!).attributes[1].value;

  before(async () => {
    database = await createTestDatabase();
  });
  beforeEach(async () => {
    t = 1_000_000;
    await database.db.delete(aftermarketDevices);
    await database.db.delete(userDevices);
    for (const n of [1, 2, 3]) {
      await database.db.insert(aftermarketDevices).values({ tokenId: BigInt(n), serial: `SER-${n}`, address: address(n), manufacturerTokenId: 1n, manufacturerName: 'AutoPi' });
    }
  });
  after(() => database.destroy());

  it('keeps the serialized body and its ETag, the same bytes the route schema would send', async () => {
    const hit = await service().aftermarketDevice(1n);
    const expected = aftermarketDeviceMetadata({ baseUrl: BASE, tokenId: 1n, address: address(1), serial: 'SER-1', manufacturerName: 'AutoPi' });
    assert.equal(hit?.body, JSON.stringify(expected));
    assert.equal(hit?.etag, metadataEtag(expected));
  });

  it('answers from memory within the TTL and from the row once it has passed', async () => {
    const s = service();
    assert.equal(serialOf((await s.aftermarketDevice(1n))?.body), 'SER-1');
    await setSerial(1n, 'SER-1B');
    t += TTL - 1;
    assert.equal(serialOf((await s.aftermarketDevice(1n))?.body), 'SER-1', 'a hit does not read the row');
    t += 1;
    assert.equal(serialOf((await s.aftermarketDevice(1n))?.body), 'SER-1B');
  });

  it('forgets a burned device once its entry expires, and finds a new one on the first request', async () => {
    const s = service();
    assert.ok(await s.aftermarketDevice(1n));
    assert.equal(await s.aftermarketDevice(9n), null);
    await database.db.delete(aftermarketDevices).where(eq(aftermarketDevices.tokenId, 1n));
    await database.db.insert(aftermarketDevices).values({ tokenId: 9n, serial: 'SER-9', address: address(9), manufacturerTokenId: 1n, manufacturerName: 'AutoPi' });
    assert.ok(await s.aftermarketDevice(9n), 'a 404 is not kept');
    t += TTL;
    assert.equal(await s.aftermarketDevice(1n), null);
  });

  it('keeps at most cacheSize bodies, the least recently used going first', async () => {
    const s = service(2);
    for (const id of [1n, 2n, 3n]) await s.aftermarketDevice(id);
    await setSerial(1n, 'SER-1B');
    await setSerial(3n, 'SER-3B');
    assert.equal(serialOf((await s.aftermarketDevice(1n))?.body), 'SER-1B', 'evicted, so read again');
    assert.equal(serialOf((await s.aftermarketDevice(3n))?.body), 'SER-3', 'still kept');
  });

  it('keeps the encoded image bytes; a lookup by address answers the same body', async () => {
    const s = service();
    const first = await s.aftermarketDeviceImage(2n);
    assert.ok(first && Buffer.isBuffer(first.body));
    assert.equal((await s.aftermarketDeviceImage(2n))?.body, first.body, 'the same buffer, not a new encoding');
    const byAddress = await s.aftermarketDeviceByAddress(address(2).toUpperCase().replace('0X', '0x'));
    assert.equal(byAddress?.body, (await s.aftermarketDevice(2n))?.body);
  });

  it("shows a vehicle's new name once the kept body expires", async () => {
    const id = await insertVehicle(database.db, { userId: 'alice', tokenId: 42n });
    const s = service();
    assert.equal(JSON.parse((await s.vehicle(42n))!.body).name, 'Ford Bronco 2021');
    await database.db.update(userDevices).set({ name: 'Blue' }).where(eq(userDevices.id, id));
    t += TTL;
    assert.equal(JSON.parse((await s.vehicle(42n))!.body).name, 'Blue');
  });
});
