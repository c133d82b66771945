// "Ownership is checked on every id in a path": another user's vehicle answers exactly like a
// missing one (404, same message), on every route that takes a userDeviceId.
//
// To cover a new route, add a row to ROUTES (routes the app has without a chain) or CHAIN_ROUTES
// (routes registered only with a chain: commands, sharing, synthetic devices, claims). The last
// test reads the chain app's OpenAPI document and fails while a route with {userDeviceId} or
// {serial} in its path has no row in either (or is not listed in NOT_OWNER_ROUTES with a reason).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startChainApp, type ChainApp } from '../helpers/chain-app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';
import { insertVehicle } from '../helpers/vehicles.ts';
import { aftermarketDevices, integrations } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';

interface Caller {
  token: string;
}

interface RouteRow {
  method: string;
  /** The OpenAPI path this row covers, e.g. `/v1/user/devices/{userDeviceId}`. */
  route: string;
  path: (userDeviceId: string) => string;
  body?: unknown;
  /** Brings the owner's vehicle into a state where the route can succeed (run before each owner call). */
  prepare?: (t: TestApp, owner: Caller, userDeviceId: string) => Promise<void>;
}

const ROUTES: RouteRow[] = [
  { method: 'DELETE', route: '/v1/user/devices/{userDeviceId}', path: (id) => `/v1/user/devices/${id}` },
  {
    method: 'POST',
    route: '/v1/user/devices/{userDeviceId}/error-codes',
    path: (id) => `/v1/user/devices/${id}/error-codes`,
    body: { errorCodes: ['P0106'] },
  },
  { method: 'GET', route: '/v1/user/devices/{userDeviceId}/error-codes', path: (id) => `/v1/user/devices/${id}/error-codes` },
  {
    method: 'POST',
    route: '/v1/user/devices/{userDeviceId}/error-codes/clear',
    path: (id) => `/v1/user/devices/${id}/error-codes/clear`,
    prepare: async (t, owner, id) => {
      const r = await t.request('POST', `/v1/user/devices/${id}/error-codes`, { token: owner.token, body: { errorCodes: ['P0106'] } });
      assert.equal(r.status, 200, r.text);
    },
  },
];

const ALICE_ADDR = '0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa';
const BOB_ADDR = '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB';

describe('another user\'s vehicle is a 404 on every route that takes a userDeviceId', () => {
  let t: TestApp;
  let alice: Caller;
  let bob: Caller;
  let carol: Caller;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    alice = { token: await t.token('alice', ALICE_ADDR) };
    bob = { token: await t.token('bob', BOB_ADDR) };
    carol = { token: await t.token('carol') };
  });
  after(() => t.close());

  const send = (row: RouteRow, caller: Caller, id: string) => t.request(row.method, row.path(id), { token: caller.token, body: row.body });
  const strip = (json: any) => ({ ...json, requestId: undefined });

  for (const row of ROUTES) {
    describe(`${row.method} ${row.route}`, () => {
      it("answers 404 for another user's vehicle, exactly as for a missing one", async () => {
        const id = await insertVehicle(t.database.db, { userId: 'alice' });
        const foreign = await send(row, bob, id);
        assertError(foreign, 404, { error: 'NOT_FOUND' });
        const missing = await send(row, bob, newKsuid());
        assertError(missing, 404, { error: 'NOT_FOUND' });
        assert.deepEqual(strip(foreign.json), strip(missing.json));
        assert.ok(!foreign.text.includes(id), 'the 404 echoes the id');
        // Still there and still alice's.
        await row.prepare?.(t, alice, id);
        const own = await send(row, alice, id);
        assert.notEqual(own.status, 404, `the owner got 404: ${own.text}`);
        assert.ok(own.status < 400, `the owner got ${own.status}: ${own.text}`);
      });

      it('answers 404 to a user without an address for a vehicle whose NFT another address owns', async () => {
        const id = await insertVehicle(t.database.db, { userId: 'someone-else', tokenId: 7001n + BigInt(ROUTES.indexOf(row)), ownerAddress: ALICE_ADDR });
        assertError(await send(row, carol, id), 404, { error: 'NOT_FOUND' });
        assertError(await send(row, bob, id), 404, { error: 'NOT_FOUND' });
      });

      it("lets the NFT owner's address reach a vehicle registered by someone else", async () => {
        const id = await insertVehicle(t.database.db, { userId: 'someone-else', tokenId: 8001n + BigInt(ROUTES.indexOf(row)), ownerAddress: ALICE_ADDR.toLowerCase() });
        await row.prepare?.(t, alice, id);
        const r = await send(row, alice, id);
        // A minted vehicle may refuse the action (DELETE → 409), but never as "not found".
        assert.notEqual(r.status, 404, r.text);
      });

      it('answers 400 for a malformed userDeviceId', async () => {
        for (const bad of ['abc', 'x'.repeat(28), '0000000000000000000000000-_']) {
          assertError(await send(row, alice, bad), 400, { message: /userDeviceId/ });
        }
      });

      it('answers 401 without a token before looking anything up', async () => {
        const id = await insertVehicle(t.database.db, { userId: 'alice' });
        assertError(await t.request(row.method, row.path(id), { body: row.body }), 401);
      });
    });
  }

});

// The routes registered only with a chain. Each row names what it is keyed by: a vehicle (made
// alice's by her login) or a claimed aftermarket device (alice's by her address). An owner may be
// refused for the object's state (an unminted vehicle cannot be paired: 409), never with a 404.
interface ChainRouteRow {
  method: string;
  route: string;
  keyedBy: 'userDeviceId' | 'serial';
  path: (key: string) => string;
  body?: unknown;
}

const DEVICE_SERIAL = 'cross-user-free-device';
/** Well-formed and signing nothing: the routes that require a signature check its form before any lookup. */
const A_SIGNATURE = `0x${'11'.repeat(32)}${'22'.repeat(32)}1b`;
const GRANTEE = '0xcCcCCCCCcccCccCCCCCCcCCCCcCCCCCcccCccCcc';
const IN_A_WEEK = new Date(Date.now() + 7 * 86_400_000).toISOString();
/** A row keyed by a vehicle: `route` below /v1/user/devices/{userDeviceId}, integration 7 where one is named. */
const byVehicle = (method: string, route: string, request: { query?: string; body?: unknown } = {}): ChainRouteRow => ({
  method,
  route: `/v1/user/devices/{userDeviceId}${route}`,
  keyedBy: 'userDeviceId',
  path: (id) => `/v1/user/devices/${id}${route.replace('{integrationTokenId}', '7')}${request.query ?? ''}`,
  body: request.body,
});

const CHAIN_ROUTES: ChainRouteRow[] = [
  byVehicle('GET', '/commands/mint'),
  byVehicle('POST', '/commands/mint', { body: {} }),
  byVehicle('GET', '/aftermarket/commands/pair', { query: `?serial=${DEVICE_SERIAL}` }),
  byVehicle('POST', '/aftermarket/commands/pair', { body: { serial: DEVICE_SERIAL, userSignature: A_SIGNATURE } }),
  byVehicle('GET', '/aftermarket/commands/unpair'),
  byVehicle('POST', '/aftermarket/commands/unpair', { body: { userSignature: A_SIGNATURE } }),
  byVehicle('GET', '/commands/share', { query: `?grantee=${GRANTEE}&privileges=1&expiresAt=${IN_A_WEEK}` }),
  byVehicle('POST', '/commands/share', { body: { grantee: GRANTEE, privileges: [1], expiresAt: IN_A_WEEK } }),
  byVehicle('GET', '/commands/unshare', { query: `?grantee=${GRANTEE}` }),
  byVehicle('POST', '/commands/unshare', { body: { grantee: GRANTEE } }),
  byVehicle('GET', '/shares'),
  byVehicle('GET', '/integrations/{integrationTokenId}/commands/mint'),
  byVehicle('POST', '/integrations/{integrationTokenId}/commands/mint', { body: {} }),
  { method: 'GET', route: '/v1/aftermarket/device/by-serial/{serial}', keyedBy: 'serial', path: (s) => `/v1/aftermarket/device/by-serial/${s}` },
  {
    method: 'POST',
    route: '/v1/aftermarket/device/by-serial/{serial}/commands/unclaim',
    keyedBy: 'serial',
    path: (s) => `/v1/aftermarket/device/by-serial/${s}/commands/unclaim`,
  },
];

/** Documented routes with {userDeviceId} or {serial} that have no row, and why. */
const NOT_OWNER_ROUTES: Record<string, string> = {
  'GET /v1/aftermarket/device/by-serial/{serial}/commands/claim': 'addressed to anyone: an unclaimed device is claimable by every user',
  'POST /v1/aftermarket/device/by-serial/{serial}/commands/claim': 'addressed to anyone: an unclaimed device is claimable by every user',
  'POST /v1/aftermarket/device/by-serial/{serial}/update': 'needs a firmware cloud: test/e2e/firmware-updates.test.ts "is for the owner only"',
  'GET /v1/aftermarket/device/by-serial/{serial}/update/{taskId}': 'needs a firmware cloud: test/e2e/firmware-updates.test.ts "is for the owner only"',
};

describe("another user's vehicle or device is a 404 on every route that exists only with a chain", () => {
  let chainApp: ChainApp;
  let t: TestApp;
  let alice: Caller;
  let bob: Caller;
  let nextToken = 9001n;
  before(async () => {
    chainApp = await startChainApp({ catalog: emptyCatalog });
    t = chainApp.t;
    alice = { token: await t.token('alice', ALICE_ADDR) };
    bob = { token: await t.token('bob', BOB_ADDR) };
    // The unclaimed device the pair rows name, and the integration the synthetic rows name.
    await t.database.db.insert(integrations).values({ tokenId: 7n, name: 'Cross-user integration' });
    await t.database.db.insert(aftermarketDevices).values({ tokenId: nextToken++, serial: DEVICE_SERIAL, address: `0x${'d'.repeat(40)}` });
  });
  after(() => chainApp?.close());

  /** A new object of alice's that `row` is keyed by: her vehicle, or a device her address claimed. */
  async function alicesObject(row: ChainRouteRow): Promise<string> {
    if (row.keyedBy === 'userDeviceId') return insertVehicle(t.database.db, { userId: 'alice' });
    const tokenId = nextToken++;
    const serial = `cross-user-${tokenId}`;
    await t.database.db.insert(aftermarketDevices).values({ tokenId, serial, address: `0x${tokenId.toString(16).padStart(40, '0')}`, ownerAddress: ALICE_ADDR.toLowerCase() });
    return serial;
  }
  const missingKey = (row: ChainRouteRow) => (row.keyedBy === 'userDeviceId' ? newKsuid() : `no-such-serial-${nextToken++}`);
  const send = (row: ChainRouteRow, caller: Caller | undefined, key: string) => t.request(row.method, row.path(key), { token: caller?.token, body: row.body });
  const strip = (json: any) => ({ ...json, requestId: undefined });

  for (const row of CHAIN_ROUTES) {
    describe(`${row.method} ${row.route}`, () => {
      it("answers 404 for another user's object, exactly as for a missing one; the owner gets no 404", async () => {
        const key = await alicesObject(row);
        const foreign = await send(row, bob, key);
        assertError(foreign, 404, { error: 'NOT_FOUND' });
        const missing = await send(row, bob, missingKey(row));
        assertError(missing, 404, { error: 'NOT_FOUND' });
        assert.deepEqual(strip(foreign.json), strip(missing.json));
        assert.ok(!foreign.text.includes(key), 'the 404 echoes the key');
        const own = await send(row, alice, key);
        assert.notEqual(own.status, 404, `the owner got 404: ${own.text}`);
        assert.ok(own.status < 500, `the owner got ${own.status}: ${own.text}`);
      });

      it('answers 401 without a token', async () => {
        assertError(await send(row, undefined, await alicesObject(row)), 401);
      });
    });
  }

  it('has a row for every documented route with {userDeviceId} or {serial} in its path (the chain app\'s document)', async () => {
    const doc = (await t.request('GET', '/v1/openapi.json')).json;
    const documented: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!path.includes('{userDeviceId}') && !path.includes('{serial}')) continue;
      for (const method of Object.keys(item)) documented.push(`${method.toUpperCase()} ${path}`);
    }
    const covered = new Set([...ROUTES, ...CHAIN_ROUTES].map((r) => `${r.method} ${r.route}`));
    assert.deepEqual(documented.filter((x) => !covered.has(x) && !(x in NOT_OWNER_ROUTES)).sort(), [], 'add these routes to ROUTES or CHAIN_ROUTES');
    assert.deepEqual(Object.keys(NOT_OWNER_ROUTES).filter((x) => !documented.includes(x)), [], 'NOT_OWNER_ROUTES names a route that is gone');
  });
});

// The same rule for webhook subscriptions: another user's subscription (and its deliveries) is a 404.
const WEBHOOK_ROUTES: { method: string; route: string; path: (id: string) => string; body?: unknown }[] = [
  { method: 'GET', route: '/v1/webhooks/{id}', path: (id) => `/v1/webhooks/${id}` },
  { method: 'PATCH', route: '/v1/webhooks/{id}', path: (id) => `/v1/webhooks/${id}`, body: { description: 'mine now' } },
  { method: 'DELETE', route: '/v1/webhooks/{id}', path: (id) => `/v1/webhooks/${id}` },
  { method: 'POST', route: '/v1/webhooks/{id}/rotate-secret', path: (id) => `/v1/webhooks/${id}/rotate-secret` },
  { method: 'POST', route: '/v1/webhooks/{id}/test', path: (id) => `/v1/webhooks/${id}/test` },
  { method: 'GET', route: '/v1/webhooks/{id}/deliveries', path: (id) => `/v1/webhooks/${id}/deliveries` },
  {
    method: 'POST',
    route: '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
    path: (id) => `/v1/webhooks/${id}/deliveries/${'0'.repeat(32)}/redeliver`,
  },
];

describe("another user's webhook subscription is a 404 on every /v1/webhooks/{id} route", () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    alice = await t.token('alice', ALICE_ADDR);
    bob = await t.token('bob', BOB_ADDR);
  });
  after(() => t.close());

  for (const row of WEBHOOK_ROUTES) {
    it(`${row.method} ${row.route}: 404 for another user's subscription, exactly as for a missing one`, async () => {
      const created = await t.request('POST', '/v1/webhooks', { token: alice, body: { url: 'http://127.0.0.1:9/hook', events: ['*'] } });
      assert.equal(created.status, 201, created.text);
      const id = created.json.id;
      const foreign = await t.request(row.method, row.path(id), { token: bob, body: row.body });
      assertError(foreign, 404, { error: 'NOT_FOUND' });
      const missing = await t.request(row.method, row.path(newKsuid()), { token: bob, body: row.body });
      assert.deepEqual({ ...foreign.json, requestId: undefined }, { ...missing.json, requestId: undefined });
      const still = await t.request('GET', `/v1/webhooks/${id}`, { token: alice });
      assert.equal(still.status, 200);
      assert.equal(still.json.description, '', 'bob changed it');
      assert.equal((await t.request('GET', '/v1/webhooks', { token: bob })).json.webhooks.length, 0);
    });
  }

  it('has a row for every documented route with {id} under /v1/webhooks', async () => {
    const doc = (await t.request('GET', '/v1/openapi.json')).json;
    const documented = Object.entries<any>(doc.paths)
      .filter(([path]) => path.startsWith('/v1/webhooks/{id}'))
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    const covered = new Set(WEBHOOK_ROUTES.map((r) => `${r.method} ${r.route}`));
    assert.deepEqual(documented.filter((x) => !covered.has(x)).sort(), []);
  });
});
