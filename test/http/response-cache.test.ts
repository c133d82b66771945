// The response cache in front of GET /v1/user/devices/me: repeat reads are served from memory,
// yet a caller reads its own writes at once and sees other processes' writes once the database's
// change notification arrives.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { emptyCatalog } from '../helpers/http-assert.ts';
import { userDevices } from '../../src/db/schema.ts';
import { insertVehicle } from '../helpers/vehicles.ts';
import { until } from '../helpers/eventually.ts';

async function cacheHits(t: TestApp): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = /^http_response_cache_lookups_total\{result="hit"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const eventually = (check: () => Promise<boolean>, what: string) => until(what, check, 5000, 20);

describe('response cache', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
  });
  after(() => t.close());

  it('serves a repeated read from memory with the same body', async () => {
    const token = await t.token('cache-repeat');
    await insertVehicle(t.database.db, { userId: 'cache-repeat' });
    const first = await t.request('GET', '/v1/user/devices/me', { token });
    // On PostgreSQL the insert's notification may still be on its way and drop the first answer.
    let second = first;
    await eventually(async () => {
      const hits = await cacheHits(t);
      second = await t.request('GET', '/v1/user/devices/me', { token });
      return (await cacheHits(t)) === hits + 1;
    }, 'a read is served from the cache');
    assert.equal(second.status, 200);
    assert.equal(second.text, first.text);
    assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
  });

  it("never answers one caller's read with another caller's cached body", async () => {
    await insertVehicle(t.database.db, { userId: 'cache-alice' });
    const alice = await t.request('GET', '/v1/user/devices/me', { token: await t.token('cache-alice') });
    const bob = await t.request('GET', '/v1/user/devices/me', { token: await t.token('cache-bob') });
    assert.equal(alice.json.userDevices.length, 1);
    assert.deepEqual(bob.json.userDevices, []);
  });

  it('shows the caller its own write in the very next read', async () => {
    const token = await t.token('cache-writer');
    const id = await insertVehicle(t.database.db, { userId: 'cache-writer' });
    await t.request('GET', '/v1/user/devices/me', { token });
    const cached = await t.request('GET', '/v1/user/devices/me', { token });
    assert.deepEqual(cached.json.userDevices.map((d: { id: string }) => d.id), [id]);
    assert.equal((await t.request('DELETE', `/v1/user/devices/${id}`, { token })).status, 204);
    assert.deepEqual((await t.request('GET', '/v1/user/devices/me', { token })).json.userDevices, []);
  });

  it("shows a write made by another process (the chain worker, another replica) once it is announced", async () => {
    const token = await t.token('cache-other-process');
    const id = await insertVehicle(t.database.db, { userId: 'cache-other-process' });
    const first = await t.request('GET', '/v1/user/devices/me', { token });
    assert.equal(first.json.userDevices[0].name, null);
    await t.request('GET', '/v1/user/devices/me', { token }); // cached
    await t.database.db.update(userDevices).set({ name: 'renamed elsewhere' }).where(eq(userDevices.id, id));
    await eventually(
      async () => (await t.request('GET', '/v1/user/devices/me', { token })).json.userDevices[0].name === 'renamed elsewhere',
      'the rename shows in /me',
    );
  });
});

describe('response cache turned off', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog, env: { RESPONSE_CACHE_MAX_BYTES: '0' } });
  });
  after(() => t.close());

  it('answers every read from the database', async () => {
    const token = await t.token('uncached');
    await t.request('GET', '/v1/user/devices/me', { token });
    await t.request('GET', '/v1/user/devices/me', { token });
    assert.equal(await cacheHits(t), 0);
  });
});
