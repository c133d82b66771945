import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeQueries, userDevices } from '../../src/db/schema.ts';
import { createDtcCatalog } from '../../src/domain/dtc/catalog.ts';
import { upsertTitles } from '../../src/db/repositories/dtc.ts';
import { createErrorCodeService } from '../../src/services/error-codes.ts';
import type { UserDeviceRow } from '../../src/db/repositories/user-devices.ts';
import { AppError } from '../../src/errors.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { BRONCO_2021, insertVehicle } from '../helpers/vehicles.ts';

const USER = { id: 'user-1', address: null } as const;

describe('error-code submissions that arrive together', () => {
  let database: TestDatabase;
  // Every id passes the access check, so a vehicle deleted after its check can be simulated.
  const service = () =>
    createErrorCodeService({
      db: database.db,
      vehicles: {
        requireOwned: async (_user: unknown, id: string) => ({ id, userId: USER.id, tokenId: null, definition: BRONCO_2021 }) as unknown as UserDeviceRow,
        requirePrivilege: async () => {},
      },
      catalog: createDtcCatalog(),
    });

  before(async () => {
    database = await createTestDatabase();
  });
  beforeEach(async () => {
    await database.db.delete(userDevices);
  });
  after(() => database.destroy());

  it('stores every one of many concurrent submissions, once each', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, () => insertVehicle(database.db, { userId: USER.id })));
    const s = service();
    const answers = await Promise.all(ids.map((id, i) => s.submit(USER, id, [`P0${String(100 + i)}`])));
    assert.ok(answers.every((a, i) => a.errorCodes[0]!.code === `P0${String(100 + i)}`));
    const stored = await Promise.all(ids.map(async (id) => (await s.history(USER, id, 10)).items.map((q) => q.errorCodes[0]!.code)));
    assert.deepEqual(stored, ids.map((_, i) => [`P0${String(100 + i)}`]));
  });

  it('answers 404 for a vehicle deleted after its access check and still stores the others sent with it', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, () => insertVehicle(database.db, { userId: USER.id })));
    const s = service();
    const results = await Promise.allSettled([...ids, 'gone-vehicle-id'].map((id) => s.submit(USER, id, ['P0300'])));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    const failure = (results[5] as PromiseRejectedResult).reason;
    assert.ok(failure instanceof AppError && failure.statusCode === 404);
    assert.equal((await database.db.select().from(errorCodeQueries)).length, 5);
  });

  it('keeps the order of one vehicle\'s submissions sent together', async () => {
    const id = await insertVehicle(database.db, { userId: USER.id });
    const s = service();
    await Promise.all(['P0101', 'P0102', 'P0103', 'P0104'].map((code) => s.submit(USER, id, [code])));
    const page = await s.history(USER, id, 10);
    assert.deepEqual(
      page.items.map((q) => q.errorCodes[0]!.code),
      ['P0104', 'P0103', 'P0102', 'P0101'],
    );
  });

  it('reads queries stored in the earlier whole-object format', async () => {
    const id = await insertVehicle(database.db, { userId: USER.id });
    const legacy = { code: 'P0300', description: 'Old title', system: 'Powertrain', definedBy: 'SAE', subsystem: 'Ignition system or misfire' };
    await database.db.insert(errorCodeQueries).values({ id: '0ujtsYcgvSTl8PAuAdqWYSMnLOv', userDeviceId: id, codes: [legacy] });
    const s = service();
    await s.submit(USER, id, ['P0300']);
    const [latest, earlier] = (await s.history(USER, id, 10)).items;
    assert.deepEqual(earlier!.errorCodes, [legacy]);
    const { description, ...structure } = latest!.errorCodes[0]!;
    assert.deepEqual(structure, { code: 'P0300', system: 'Powertrain', definedBy: 'SAE', subsystem: 'Ignition system or misfire' });
    assert.ok(description.length > 0);
  });

  it('describes each submission with imported titles for its own make', async () => {
    await upsertTitles(database.db, [
      { code: 'P1234', make: 'ford', description: 'Ford-specific title' },
      { code: 'P1234', make: 'toyota', description: 'Toyota-specific title' },
    ]);
    const ford = await insertVehicle(database.db, { userId: USER.id });
    const toyotaDef = { ...BRONCO_2021, make: { id: 'toyota', name: 'Toyota' } };
    const s = createErrorCodeService({
      db: database.db,
      vehicles: {
        requireOwned: async (_u, id) => ({ id, userId: USER.id, tokenId: null, definition: id === ford ? BRONCO_2021 : toyotaDef }) as unknown as UserDeviceRow,
        requirePrivilege: async () => {},
      },
      catalog: createDtcCatalog(),
    });
    const toyota = await insertVehicle(database.db, { userId: USER.id });
    const [a, b] = await Promise.all([s.submit(USER, ford, ['P1234']), s.submit(USER, toyota, ['P1234'])]);
    assert.equal(a.errorCodes[0]!.description, 'Ford-specific title');
    assert.equal(b.errorCodes[0]!.description, 'Toyota-specific title');
  });
});
