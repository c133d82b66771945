// GET /v1/user/devices/me and /shared: who sees which vehicle, in what order, how privileges and
// token ids are rendered, and cursor pagination.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { getAddress } from 'viem';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';
import { integrations, userDevices } from '../../src/db/schema.ts';
import { BRONCO_2021, insertPairedDevice, insertPrivilege, insertRequest, insertVehicle } from '../helpers/vehicles.ts';
import { newKsuid } from '../../src/domain/ids.ts';

const ALICE_ADDR = '0xfa8bec73cebb9d88ff88a2f75e7d7312f2fd39ec';
const BOB_ADDR = '0x1111111111111111111111111111111111111111';
const CAROL_ADDR = '0xabcdefabcdefabcdefabcdefabcdefabcdefabcd';
const HOUR = 3600_000;
const ago = (ms: number) => new Date(Date.now() - ms);
const ids = (list: { id: string }[]) => list.map((d) => d.id);

describe('listing vehicles', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
  });
  after(() => t.close());

  describe('GET /v1/user/devices/me', () => {
    it('lists own vehicles and vehicles whose NFT the caller\'s address owns, newest first', async () => {
      const db = t.database.db;
      const oldest = await insertVehicle(db, { userId: 'me-1', createdAt: ago(3 * HOUR) });
      const ownedByAddress = await insertVehicle(db, { userId: 'someone-else', tokenId: 101n, ownerAddress: ALICE_ADDR.toUpperCase().replace('0X', '0x'), createdAt: ago(2 * HOUR) });
      const newest = await insertVehicle(db, { userId: 'me-1', createdAt: ago(HOUR) });
      await insertVehicle(db, { userId: 'someone-else', createdAt: ago(HOUR) });
      await insertVehicle(db, { userId: 'someone-else', tokenId: 102n, ownerAddress: BOB_ADDR, createdAt: ago(HOUR) });

      // The token's address in checksummed form; stored lower-case: compared case-insensitively.
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('me-1', getAddress(ALICE_ADDR)) });
      assert.equal(r.status, 200);
      assert.deepEqual(ids(r.json.userDevices), [newest, ownedByAddress, oldest]);
      assert.deepEqual(r.json.sharedDevices, []);
      assert.equal(r.json.nextCursor, undefined);
      const minted = r.json.userDevices[1];
      assert.equal(minted.nft.tokenId, 101);
      assert.equal(minted.nft.ownerAddress, getAddress(ALICE_ADDR));
      assert.equal(minted.nft.tokenUri, 'http://api.test/v1/vehicle/101');
      assert.equal(minted.nft.status, 'Confirmed');
    });

    it('does not list vehicles owned by an address to a caller whose token has no address', async () => {
      const db = t.database.db;
      await insertVehicle(db, { userId: 'other', tokenId: 201n, ownerAddress: CAROL_ADDR });
      const own = await insertVehicle(db, { userId: 'no-address' });
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('no-address') });
      assert.deepEqual(ids(r.json.userDevices), [own]);
    });

    it('answers an empty list to a new user', async () => {
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('nobody-yet', '0x9999999999999999999999999999999999999999') });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { userDevices: [], sharedDevices: [] });
    });

    it('emits uint256 token ids as JSON numbers with exact digits', async () => {
      const db = t.database.db;
      const big = (1n << 200n) + 1n;
      const max = (1n << 256n) - 1n;
      await insertVehicle(db, { userId: 'whale', tokenId: big, ownerAddress: CAROL_ADDR });
      await insertVehicle(db, { userId: 'whale', tokenId: max });
      await insertPairedDevice(db, { tokenId: max - 1n, vehicleTokenId: big, serial: 'serial-big', address: '0x2222222222222222222222222222222222222222' });
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('whale') });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.text.includes(`"tokenId":${big}`), `no exact ${big} in ${r.text}`);
      assert.ok(r.text.includes(`"tokenId":${max}`), 'max uint256 not exact');
      assert.ok(r.text.includes(`"tokenId":${max - 1n}`), 'aftermarket device token id not exact');
      assert.ok(r.text.includes(`"tokenUri":"http://api.test/v1/vehicle/${big}"`));
      assert.ok(!r.text.includes('e+'), 'a token id went through a JS number');
      const [withDevice] = r.json.userDevices.filter((d: any) => d.aftermarketDevice);
      assert.deepEqual(
        { serial: withDevice.aftermarketDevice.serial, address: withDevice.aftermarketDevice.address },
        { serial: 'serial-big', address: getAddress('0x2222222222222222222222222222222222222222') },
      );
    });

    it('shows a vehicle whose mint is in flight with its transaction status and no token id', async () => {
      const db = t.database.db;
      const hash = `0x${'ab'.repeat(32)}`;
      const mintRequestId = await insertRequest(db, { kind: 'MintVehicle', status: 'Submitted', userId: 'minter', hash });
      const id = await insertVehicle(db, { userId: 'minter', mintRequestId });
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('minter') });
      assert.equal(r.status, 200, r.text);
      const [d] = r.json.userDevices;
      assert.equal(d.id, id);
      assert.deepEqual(d.nft, { tokenId: null, ownerAddress: null, tokenUri: null, txHash: hash, status: 'Submitted', failureReason: null });
    });

    it('emits the opt-in time as an RFC 3339 UTC string', async () => {
      const db = t.database.db;
      const id = await insertVehicle(db, { userId: 'opted' });
      await db.update(userDevices).set({ optedInAt: new Date('2024-05-06T07:08:09.000Z') }).where(eq(userDevices.id, id));
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('opted') });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.userDevices[0].optedInAt, '2024-05-06T07:08:09.000Z');
    });
  });

  describe('GET /v1/user/devices/shared', () => {
    it('lists vehicles on which the caller holds an unexpired privilege, and not expired ones', async () => {
      const db = t.database.db;
      const sharedAddr = '0x3333333333333333333333333333333333333333';
      const live = await insertVehicle(db, { userId: 'owner-1', tokenId: 301n, ownerAddress: BOB_ADDR });
      await insertVehicle(db, { userId: 'owner-1', tokenId: 302n, ownerAddress: BOB_ADDR });
      await insertVehicle(db, { userId: 'owner-1', tokenId: 303n, ownerAddress: BOB_ADDR });
      await insertPrivilege(db, { tokenId: 301n, privilege: 1, address: sharedAddr, expiry: new Date(Date.now() + 24 * HOUR) });
      await insertPrivilege(db, { tokenId: 301n, privilege: 4, address: sharedAddr, expiry: new Date(Date.now() + 24 * HOUR) });
      await insertPrivilege(db, { tokenId: 302n, privilege: 1, address: sharedAddr, expiry: ago(HOUR) });
      // A privilege for a token no vehicle here has.
      await insertPrivilege(db, { tokenId: 399n, privilege: 1, address: sharedAddr, expiry: new Date(Date.now() + HOUR) });

      const r = await t.request('GET', '/v1/user/devices/shared', { token: await t.token('sharee', sharedAddr.toUpperCase().replace('0X', '0x')) });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.userDevices, []);
      assert.deepEqual(ids(r.json.sharedDevices), [live]);
    });

    it('answers an empty list to a caller without an address', async () => {
      const r = await t.request('GET', '/v1/user/devices/shared', { token: await t.token('addressless') });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { userDevices: [], sharedDevices: [] });
    });

    it('shows privilegedUsers with checksummed addresses, each with its unexpired privileges', async () => {
      const db = t.database.db;
      const a = '0x4444444444444444444444444444444444444444';
      const b = '0xfa8bec73cebb9d88ff88a2f75e7d7312f2fd39ec';
      const expiry = new Date('2099-01-01T00:00:00.000Z');
      const updatedAt = new Date('2024-01-02T03:04:05.000Z');
      await insertVehicle(db, { userId: 'owner-2', tokenId: 401n, ownerAddress: BOB_ADDR });
      await insertPrivilege(db, { tokenId: 401n, privilege: 1, address: a, expiry, updatedAt });
      await insertPrivilege(db, { tokenId: 401n, privilege: 5, address: a, expiry, updatedAt });
      await insertPrivilege(db, { tokenId: 401n, privilege: 1, address: b, expiry, updatedAt });
      await insertPrivilege(db, { tokenId: 401n, privilege: 3, address: b, expiry: ago(HOUR), updatedAt });

      const r = await t.request('GET', '/v1/user/devices/shared', { token: await t.token('holder-a', a) });
      assert.equal(r.status, 200, r.text);
      const [d] = r.json.sharedDevices;
      const users = [...d.privilegedUsers].sort((x: any, y: any) => x.address.localeCompare(y.address));
      const privs = (u: any) => u.privileges.map((p: any) => p.id).sort();
      assert.deepEqual(users.map((u: any) => u.address), [getAddress(a), getAddress(b)].sort((x, y) => x.localeCompare(y)));
      assert.deepEqual(privs(users.find((u: any) => u.address === getAddress(a))), [1, 5]);
      assert.deepEqual(privs(users.find((u: any) => u.address === getAddress(b))), [1]);
      assert.deepEqual(users[0].privileges[0], { id: users[0].privileges[0].id, expiry: '2099-01-01T00:00:00.000Z', updatedAt: '2024-01-02T03:04:05.000Z' });
      // The owner sees the same grouping on /me.
      const me = await t.request('GET', '/v1/user/devices/me', { token: await t.token('owner-2') });
      assert.equal(me.json.userDevices[0].privilegedUsers.length, 2);
    });
  });

  describe('fields clients of the original read', () => {
    it('gives /me and /shared items imageUrl, compatibleIntegrations and metadata', async () => {
      const db = t.database.db;
      const grantee = '0x6666666666666666666666666666666666666666';
      await db.insert(integrations).values([
        { tokenId: 2n, name: 'Tesla' },
        { tokenId: 1n, name: 'SmartCar' },
      ]);
      const unminted = await insertVehicle(db, { userId: 'fields-owner', createdAt: ago(2 * HOUR) });
      await db.update(userDevices).set({ metadata: { powertrainType: 'BEV', canProtocol: '6' } }).where(eq(userDevices.id, unminted));
      const minted = await insertVehicle(db, { userId: 'fields-owner', tokenId: 701n, createdAt: ago(HOUR) });
      await insertPrivilege(db, { tokenId: 701n, privilege: 1, address: grantee, expiry: new Date(Date.now() + HOUR) });

      const me = await t.request('GET', '/v1/user/devices/me', { token: await t.token('fields-owner') });
      assert.equal(me.status, 200, me.text);
      const [m, u] = me.json.userDevices;
      assert.deepEqual(ids([m, u]), [minted, unminted]);
      assert.equal(m.imageUrl, 'http://api.test/v1/vehicle/701/image');
      assert.equal(u.imageUrl, null, 'no definition images in the catalog: null until minted');
      assert.deepEqual(u.metadata, { powertrainType: 'BEV', canProtocol: '6' });
      assert.deepEqual(m.metadata, { powertrainType: 'ICE' });
      assert.deepEqual(u.compatibleIntegrations, [
        { id: '1', tokenId: 1, vendor: 'SmartCar', country: 'USA' },
        { id: '2', tokenId: 2, vendor: 'Tesla', country: 'USA' },
      ]);

      const shared = await t.request('GET', '/v1/user/devices/shared', { token: await t.token('fields-grantee', grantee) });
      assert.equal(shared.status, 200, shared.text);
      const [s] = shared.json.sharedDevices;
      assert.equal(s.id, minted);
      assert.equal(s.imageUrl, 'http://api.test/v1/vehicle/701/image');
      assert.equal(s.compatibleIntegrations.length, 2);
      assert.deepEqual(s.metadata, { powertrainType: 'ICE' });

      // The public image URL answers (the same route NFT metadata points at).
      const img = await fetch(m.imageUrl.replace('http://api.test', t.url));
      assert.equal(img.status, 200);
      assert.equal(img.headers.get('content-type'), 'image/png');
      await img.arrayBuffer();
      await db.delete(integrations);
    });

    it('answers compatibleIntegrations [] when the service knows no integration', async () => {
      await insertVehicle(t.database.db, { userId: 'no-integrations' });
      const r = await t.request('GET', '/v1/user/devices/me', { token: await t.token('no-integrations') });
      assert.deepEqual(r.json.userDevices[0].compatibleIntegrations, []);
    });
  });

  describe('pagination', () => {
    let token: string;
    let all: string[];
    before(async () => {
      const db = t.database.db;
      const addr = '0x5555555555555555555555555555555555555555';
      token = await t.token('pager', addr);
      all = [];
      for (let i = 0; i < 5; i++) all.unshift(await insertVehicle(db, { userId: 'pager', createdAt: ago((10 - i) * HOUR) }));
      for (let i = 0; i < 5; i++) {
        await insertVehicle(db, { userId: 'owner-3', tokenId: 501n + BigInt(i), ownerAddress: BOB_ADDR, createdAt: ago((10 - i) * HOUR) });
        await insertPrivilege(db, { tokenId: 501n + BigInt(i), privilege: 1, address: addr, expiry: new Date(Date.now() + HOUR) });
      }
    });

    for (const [route, key] of [['/v1/user/devices/me', 'userDevices'], ['/v1/user/devices/shared', 'sharedDevices']] as const) {
      it(`pages ${route} with limit and cursor until nextCursor is absent`, async () => {
        const seen: string[] = [];
        const pageSizes: number[] = [];
        let cursor: string | undefined;
        for (let i = 0; i < 10; i++) {
          const r = await t.request('GET', `${route}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token });
          assert.equal(r.status, 200, r.text);
          pageSizes.push(r.json[key].length);
          seen.push(...ids(r.json[key]));
          cursor = r.json.nextCursor;
          if (!cursor) break;
        }
        assert.deepEqual(pageSizes, [2, 2, 1]);
        assert.equal(new Set(seen).size, 5);
        const whole = await t.request('GET', route, { token });
        assert.deepEqual(seen, ids(whole.json[key]), 'pages concatenate to the unpaged list');
        if (key === 'userDevices') assert.deepEqual(seen, all);
      });
    }

    for (const [route, key] of [['/v1/user/devices/me', 'userDevices'], ['/v1/user/devices/shared', 'sharedDevices']] as const) {
      it(`sends x-next-cursor and Link rel="next" on ${route}, and following the Link walks the whole list`, async () => {
        const seen: string[] = [];
        let path: string | undefined = `${route}?limit=2`;
        let pages = 0;
        while (path && pages++ < 10) {
          const r = await t.request('GET', path, { token });
          assert.equal(r.status, 200, r.text);
          seen.push(...ids(r.json[key]));
          const cursor = r.headers.get('x-next-cursor');
          const link = r.headers.get('link');
          assert.equal(cursor ?? undefined, r.json.nextCursor, 'header and body agree');
          if (!cursor) {
            assert.equal(link, null, 'no Link on the last page');
            break;
          }
          const m = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
          assert.ok(m, `Link: ${link}`);
          assert.equal(m[1], `${route}?limit=2&cursor=${cursor}`);
          path = m[1];
        }
        assert.equal(pages, 3);
        assert.deepEqual(seen, ids((await t.request('GET', route, { token })).json[key]));
      });
    }

    it('pages another user\'s cursor over the caller\'s own vehicles only', async () => {
      const first = await t.request('GET', '/v1/user/devices/me?limit=1', { token });
      const cursor = first.headers.get('x-next-cursor');
      assert.ok(cursor);
      const strangerToken = await t.token('stranger', '0x7777777777777777777777777777777777777777');
      const own = await insertVehicle(t.database.db, { userId: 'stranger', createdAt: ago(100 * HOUR) });
      for (const route of ['/v1/user/devices/me', '/v1/user/devices/shared']) {
        const r = await t.request('GET', `${route}?cursor=${cursor}`, { token: strangerToken });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(ids([...r.json.userDevices, ...r.json.sharedDevices]), route.endsWith('/me') ? [own] : []);
      }
    });

    it('serves a cached page with its x-next-cursor and Link, and a fresh one after a change', async () => {
      const a = await t.request('GET', '/v1/user/devices/me?limit=1', { token });
      const b = await t.request('GET', '/v1/user/devices/me?limit=1', { token });
      assert.equal(b.text, a.text);
      assert.equal(b.headers.get('x-next-cursor'), a.headers.get('x-next-cursor'));
      assert.equal(b.headers.get('link'), a.headers.get('link'));
      const whole = await t.request('GET', '/v1/user/devices/me', { token });
      assert.equal(whole.headers.get('x-next-cursor'), null, 'the unpaged answer is cached apart from the page');
      assert.equal(whole.headers.get('link'), null);

      // A write elsewhere (here: straight into the table) reaches the cache through its notification.
      const added = await insertVehicle(t.database.db, { userId: 'pager' });
      let head = '';
      for (let i = 0; i < 100 && head !== added; i++) {
        head = (await t.request('GET', '/v1/user/devices/me?limit=1', { token })).json.userDevices[0].id;
        if (head !== added) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(head, added, 'the new vehicle heads the list');
      // The caller's own write shows at once.
      assert.equal((await t.request('DELETE', `/v1/user/devices/${added}`, { token })).status, 204);
      const fresh = await t.request('GET', '/v1/user/devices/me?limit=1', { token });
      assert.equal(fresh.text, a.text);
      assert.equal(fresh.headers.get('x-next-cursor'), a.headers.get('x-next-cursor'));
    });

    it('answers the whole list without limit up to 2,000 vehicles, then the first 2,000 and a next cursor', async () => {
      const fleet = await t.token('fleet');
      const start = Date.now() - 3000 * 1000;
      const rows = Array.from({ length: 2001 }, (_, i) => ({
        id: newKsuid(new Date(start + i * 1000)),
        userId: 'fleet',
        definitionId: BRONCO_2021.id,
        definition: BRONCO_2021,
        countryCode: 'USA',
        metadata: { powertrainType: 'ICE' },
      }));
      await t.database.db.insert(userDevices).values(rows);
      const r = await t.request('GET', '/v1/user/devices/me', { token: fleet });
      assert.equal(r.status, 200);
      assert.equal(r.json.userDevices.length, 2000);
      assert.equal(r.json.userDevices[0].id, rows[2000]!.id, 'newest first');
      const cursor = r.headers.get('x-next-cursor');
      assert.equal(cursor, rows[1]!.id);
      assert.equal(r.headers.get('link'), `</v1/user/devices/me?cursor=${cursor}>; rel="next"`, 'the next page keeps the default size');
      const rest = await t.request('GET', `/v1/user/devices/me?cursor=${cursor}`, { token: fleet });
      assert.deepEqual(ids(rest.json.userDevices), [rows[0]!.id]);
      assert.equal(rest.headers.get('x-next-cursor'), null);
    });

    it('answers exactly limit items without nextCursor when nothing remains', async () => {
      const r = await t.request('GET', '/v1/user/devices/me?limit=5', { token });
      assert.equal(r.json.userDevices.length, 5);
      assert.equal(r.json.nextCursor, undefined);
      assert.equal((await t.request('GET', '/v1/user/devices/me?limit=500', { token })).status, 200);
    });

    it('answers 400 for a limit outside 1..500 or not an integer', async () => {
      for (const limit of ['0', '501', '-1', 'abc', '1.5']) {
        assertError(await t.request('GET', `/v1/user/devices/me?limit=${limit}`, { token }), 400, { message: /limit/ });
        assertError(await t.request('GET', `/v1/user/devices/shared?limit=${limit}`, { token }), 400, { message: /limit/ });
      }
    });

    it('answers 400 for a malformed cursor', async () => {
      for (const cursor of ['abc', 'x'.repeat(28), '%20%20', '0000000000000000000000000-_']) {
        assertError(await t.request('GET', `/v1/user/devices/me?cursor=${cursor}`, { token }), 400, { message: /cursor/ });
        assertError(await t.request('GET', `/v1/user/devices/shared?cursor=${cursor}`, { token }), 400, { message: /cursor/ });
      }
    });
  });
});
