// VehicleService lists: the cost of a page is a fixed number of queries, whatever its size.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/engine.ts';
import { integrations, nftPrivileges, userDevices } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import { emptyCatalog } from '../helpers/http-assert.ts';
import { createVehicleService } from '../../src/services/vehicles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { BRONCO_2021, insertPairedDevice, insertPrivilege, insertRequest, insertVehicle } from '../helpers/vehicles.ts';

/** The database, counting the queries built through it (every repository query starts with one of these). */
function counting(db: Db) {
  const counter = { queries: 0 };
  const starts = new Set(['select', 'selectDistinct', 'execute']);
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (starts.has(String(prop))) counter.queries++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { db: wrapped, counter };
}

describe('vehicle lists: queries per page', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
    await database.db.insert(integrations).values({ tokenId: 1n, name: 'SmartCar' });
  });
  after(() => database.destroy());

  /** `n` vehicles of `userId`, every one minted, paired, shared and with a mint request: all relations populated. */
  async function fleet(userId: string, n: number, firstToken: bigint) {
    for (let i = 0; i < n; i++) {
      const tokenId = firstToken + BigInt(i);
      const mintRequestId = await insertRequest(database.db, { kind: 'MintVehicle', status: 'Confirmed', userId });
      await insertVehicle(database.db, { userId, tokenId, mintRequestId });
      await insertPairedDevice(database.db, { tokenId: tokenId + 100_000n, vehicleTokenId: tokenId, serial: `${userId}-${i}`, address: `0x${(tokenId + 100_000n).toString(16).padStart(40, '0')}` });
      await insertPrivilege(database.db, { tokenId, privilege: 1, address: '0x1111111111111111111111111111111111111111', expiry: new Date(Date.now() + 3600_000) });
    }
  }

  it('reads a page of 3 and a page of 40 vehicles with the same number of queries (no per-vehicle query)', async () => {
    await fleet('small', 3, 1000n);
    await fleet('large', 40, 2000n);
    const counts: number[] = [];
    for (const [userId, n] of [['small', 3], ['large', 40]] as const) {
      const { db, counter } = counting(database.db);
      const service = createVehicleService({ db, catalog: emptyCatalog, publicBaseUrl: 'http://api.test' });
      counter.queries = 0; // the service prepares a statement when built
      const page = await service.listMine({ id: userId, address: null }, 2000);
      assert.equal(page.items.length, n);
      assert.ok(page.items.every((d) => d.aftermarketDevice && d.privilegedUsers.length === 1 && d.compatibleIntegrations.length === 1));
      counts.push(counter.queries);
    }
    assert.equal(counts[0], counts[1], `queries: ${counts.join(' vs ')}`);
    assert.ok(counts[0]! <= 6, `one list query plus one per relation (5), got ${counts[0]}`);
  });

  it('reads /shared of 3 and of 500 shared vehicles with the same one round of queries', async () => {
    /** `n` minted vehicles of other users, each shared with `grantee` (privileges 1 and 3), in one insert per table. */
    async function sharedWith(grantee: string, n: number, firstToken: bigint) {
      const tokens = Array.from({ length: n }, (_, i) => firstToken + BigInt(i));
      const expiry = new Date(Date.now() + 3600_000);
      await database.db.insert(userDevices).values(
        tokens.map((tokenId) => ({
          id: newKsuid(),
          userId: `owner-${tokenId}`,
          definitionId: BRONCO_2021.id,
          definition: BRONCO_2021,
          countryCode: 'USA',
          metadata: { powertrainType: 'ICE' as const },
          tokenId,
        })),
      );
      await database.db.insert(nftPrivileges).values(tokens.flatMap((tokenId) => [1, 3].map((privilege) => ({ tokenId, privilege, userAddress: grantee, expiry }))));
    }
    const few = '0x000000000000000000000000000000000000f003';
    const many = '0x000000000000000000000000000000000000f500';
    await sharedWith(few, 3, 10_000n);
    await sharedWith(many, 500, 20_000n);
    const counts: number[] = [];
    for (const [address, n] of [[few, 3], [many, 500]] as const) {
      const { db, counter } = counting(database.db);
      const service = createVehicleService({ db, catalog: emptyCatalog, publicBaseUrl: 'http://api.test' });
      counter.queries = 0;
      const page = await service.listShared({ id: `grantee-${n}`, address }, 2000);
      assert.equal(page.items.length, n);
      assert.ok(page.items.every((d) => d.privileges?.map((p) => p.id).join() === '1,3'));
      counts.push(counter.queries);
    }
    assert.equal(counts[0], counts[1], `queries: ${counts.join(' vs ')}`);
    assert.ok(counts[0]! <= 6, `the list query, then one query per relation side by side (5), got ${counts[0]}`);
  });
});
