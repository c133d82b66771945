import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as repo from '../../../src/db/repositories/documents.ts';
import { documentBlobKey } from '../../../src/domain/files/keys.ts';
import { newKsuid } from '../../../src/domain/ids.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { insertVehicle } from '../../helpers/vehicles.ts';

describe('documents repository: listing', () => {
  let database: TestDatabase;
  let list: ReturnType<typeof repo.prepareListVisible>;
  let car: string;
  /** Dana's visible documents, newest first: three share one millisecond, so the id decides. */
  let expected: { id: string; createdAt: Date; userDeviceId: string | null }[];

  const T = Date.parse('2026-01-02T03:04:05.678Z');

  async function insert(userId: string, at: number, opts: { userDeviceId?: string; state?: 'ready' | 'deleting' } = {}) {
    const createdAt = new Date(at);
    const id = newKsuid(createdAt);
    await repo.insertDocument(database.db, {
      id,
      userId,
      userDeviceId: opts.userDeviceId ?? null,
      name: `doc ${id}`,
      type: 'Other',
      ext: 'pdf',
      contentType: 'application/pdf',
      size: 10,
      sha256: 'a'.repeat(64),
      blobKey: documentBlobKey(userId, id),
      state: opts.state ?? 'ready',
      createdAt,
    });
    return { id, createdAt, userDeviceId: opts.userDeviceId ?? null };
  }

  before(async () => {
    database = await createTestDatabase();
    list = repo.prepareListVisible(database.db);
    car = await insertVehicle(database.db, { userId: 'dana' });
    const docs = [
      await insert('dana', T - 2000),
      await insert('dana', T - 1000, { userDeviceId: car }),
      await insert('dana', T),
      await insert('dana', T, { userDeviceId: car }),
      await insert('dana', T),
    ];
    await insert('dana', T + 1000, { state: 'deleting' });
    await insert('erin', T + 2000);
    expected = docs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
  });
  after(async () => {
    await database.destroy();
  });

  const ids = (rows: { id: string }[]) => rows.map((r) => r.id);
  const cursorAt = (d: { id: string; createdAt: Date }) => ({ createdAtMs: d.createdAt.getTime(), id: d.id });

  it("lists only the user's ready documents, newest first, ties by id", async () => {
    assert.deepEqual(ids(await list('dana', { limit: 10 })), ids(expected));
  });

  it('continues strictly past a cursor, also inside a millisecond several documents share', async () => {
    assert.deepEqual(ids(await list('dana', { limit: 2 })), ids(expected.slice(0, 2)));
    assert.deepEqual(ids(await list('dana', { limit: 2, after: cursorAt(expected[1]!) })), ids(expected.slice(2, 4)));
    assert.deepEqual(ids(await list('dana', { limit: 10, after: cursorAt(expected[4]!) })), []);
  });

  it('filters by vehicle, with or without a cursor', async () => {
    const onCar = expected.filter((d) => d.userDeviceId === car);
    assert.equal(onCar.length, 2);
    assert.deepEqual(ids(await list('dana', { limit: 10, userDeviceId: car })), ids(onCar));
    assert.deepEqual(ids(await list('dana', { limit: 10, userDeviceId: car, after: cursorAt(onCar[0]!) })), ids(onCar.slice(1)));
    assert.deepEqual(await list('erin', { limit: 10, userDeviceId: car }), []);
  });

  it('returns what a listing shows and no storage internals', async () => {
    const [first] = await list('dana', { limit: 1 });
    assert.deepEqual(Object.keys(first!).sort(), ['contentType', 'createdAt', 'ext', 'id', 'name', 'sha256', 'size', 'type', 'userDeviceId']);
    assert.ok(first!.createdAt instanceof Date);
    assert.equal(first!.createdAt.getTime(), expected[0]!.createdAt.getTime());
    assert.equal(first!.size, 10);
  });
});
