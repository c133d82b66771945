import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deleteAllTitles, upsertTitles } from '../../src/db/repositories/dtc.ts';
import { createImportedTitles } from '../../src/services/imported-titles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const TTL = 10_000;

describe('imported DTC titles kept in memory', () => {
  let database: TestDatabase;
  let t: number;
  const titles = () => createImportedTitles({ db: database.db, ttlMs: TTL, capacity: 100, now: () => t });

  before(async () => {
    database = await createTestDatabase();
  });
  beforeEach(async () => {
    t = 1_000_000;
    await deleteAllTitles(database.db);
    await upsertTitles(database.db, [
      { code: 'P1234', make: null, description: 'Every make' },
      { code: 'P1234', make: 'ford', description: 'Ford only' },
      { code: 'P1235', make: 'toyota', description: 'Toyota only' },
    ]);
  });
  after(() => database.destroy());

  it('answers the titles for every make and for the vehicle make, matching the make in any case', async () => {
    const o = await titles().overridesFor(['P1234', 'P1235', 'P0100'], ' FORD ');
    assert.equal(o('P1234', null), 'Every make');
    assert.equal(o('P1234', 'ford'), 'Ford only');
    assert.equal(o('P1235', 'ford'), undefined);
    assert.equal(o('P1235', 'toyota'), undefined, "another make's title is not part of the answer");
    assert.equal(o('P0100', null), undefined);
  });

  it('keeps found and absent titles for the TTL, then reads the imported table again', async () => {
    const s = titles();
    assert.equal((await s.overridesFor(['P1234', 'P0100'], 'Ford'))('P1234', 'ford'), 'Ford only');
    await upsertTitles(database.db, [
      { code: 'P1234', make: 'ford', description: 'Ford, imported again' },
      { code: 'P0100', make: null, description: 'Now imported' },
    ]);
    t += TTL - 1;
    const kept = await s.overridesFor(['P1234', 'P0100'], 'Ford');
    assert.equal(kept('P1234', 'ford'), 'Ford only');
    assert.equal(kept('P0100', null), undefined);
    t += 1;
    const fresh = await s.overridesFor(['P1234', 'P0100'], 'Ford');
    assert.equal(fresh('P1234', 'ford'), 'Ford, imported again');
    assert.equal(fresh('P0100', null), 'Now imported');
  });

  it('still answers every title when more pairs are asked for than it keeps', async () => {
    const s = createImportedTitles({ db: database.db, ttlMs: TTL, capacity: 2, now: () => t });
    for (let round = 0; round < 2; round++) {
      const o = await s.overridesFor(['P1234', 'P1235', 'P0100'], 'Ford');
      assert.deepEqual([o('P1234', null), o('P1234', 'ford'), o('P1235', null), o('P0100', null)], ['Every make', 'Ford only', undefined, undefined]);
    }
  });

  it('answers concurrent asks for different makes each with their own titles', async () => {
    const s = titles();
    const [ford, toyota, none] = await Promise.all([
      s.overridesFor(['P1234', 'P1235'], 'Ford'),
      s.overridesFor(['P1235'], 'Toyota'),
      s.overridesFor(['P1234'], null),
    ]);
    assert.equal(ford('P1234', 'ford'), 'Ford only');
    assert.equal(toyota('P1235', 'toyota'), 'Toyota only');
    assert.equal(none('P1234', null), 'Every make');
  });
});
