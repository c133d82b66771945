// Sharing end to end (issue 14): the owner signs SetPrivilegesSign, the relayer sends it, the
// indexer records the PrivilegeSet events, and the grantee sees the vehicle in /shared. Real
// signatures over the real chain; expiry is checked by moving the service's clock.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { TestApp } from '../helpers/app.ts';
import { signTyped, startChainApp, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`sharing e2e ${label}`)));

describe('sharing a vehicle end to end', () => {
  let app: ChainApp;
  let t: TestApp;
  let clockOffsetMs = 0;
  const alice = key('alice');
  const bob = key('bob');
  let aliceToken: string;
  let bobToken: string;
  let vehicle: { id: string; tokenId: string };
  const day = () => new Date(Date.now() + clockOffsetMs + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const share = (id: string) => `/v1/user/devices/${id}/commands/share`;
  const unshare = (id: string) => `/v1/user/devices/${id}/commands/unshare`;
  const q = (grantee: string, privs: string, exp: string) => `?grantee=${grantee}&privileges=${privs}&expiresAt=${encodeURIComponent(exp)}`;

  async function confirmed(requestId: string, token: string): Promise<void> {
    await until(`request ${requestId} confirmed`, async () => {
      const r = await t.request('GET', `/v1/transactions/${requestId}`, { token });
      assert.notEqual(r.json.status, 'Failed', r.text);
      return r.json.status === 'Confirmed';
    });
  }

  async function mintedVehicle(token: string, owner: LocalAccount): Promise<{ id: string; tokenId: string }> {
    let r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);
    const id = r.json.userDevice.id as string;
    const payload = (await t.request('GET', `/v1/user/devices/${id}/commands/mint`, { token })).json as Payload;
    r = await t.request('POST', `/v1/user/devices/${id}/commands/mint`, { token, body: { signature: await signTyped(owner, payload) } });
    assert.equal(r.status, 202, r.text);
    await confirmed(r.json.requestId, token);
    const tokenId = await until('token id', async () => {
      const me = await t.request('GET', '/v1/user/devices/me', { token });
      return (me.json.userDevices as { id: string; nft: { tokenId: string | null } | null }[]).find((d) => d.id === id)?.nft?.tokenId;
    });
    return { id, tokenId: String(tokenId) };
  }

  async function sharedWith(token: string) {
    const r = await t.request('GET', '/v1/user/devices/shared', { token });
    assert.equal(r.status, 200, r.text);
    return (r.json.sharedDevices as { id: string; privileges?: { id: number; name: string; expiresAt: string }[] }[]).find((d) => d.id === vehicle.id);
  }

  async function sharesOf(grantee: string) {
    const r = await t.request('GET', `/v1/user/devices/${vehicle.id}/shares`, { token: aliceToken });
    assert.equal(r.status, 200, r.text);
    return (r.json.shares as { grantee: string; status: string; privileges: { id: number }[]; requestId: string | null }[]).filter(
      (s) => s.grantee.toLowerCase() === grantee.toLowerCase(),
    );
  }

  async function grant(privs: number[], expiresAt: string): Promise<{ body: Record<string, unknown>; requestId: string }> {
    const r = await t.request('GET', share(vehicle.id) + q(bob.address, privs.join(','), expiresAt), { token: aliceToken });
    assert.equal(r.status, 200, r.text);
    const body = { grantee: bob.address, privileges: privs, expiresAt, signature: await signTyped(alice, r.json as Payload) };
    const p = await t.request('POST', share(vehicle.id), { token: aliceToken, body });
    assert.equal(p.status, 202, p.text);
    await confirmed(p.json.requestId, aliceToken);
    return { body, requestId: p.json.requestId };
  }

  before(async () => {
    app = await startChainApp({ deps: { now: () => new Date(Date.now() + clockOffsetMs) } });
    t = app.t;
    aliceToken = await t.token('alice', alice.address);
    bobToken = await t.token('bob', bob.address);
    vehicle = await mintedVehicle(aliceToken, alice);
  });
  after(() => app?.close());

  it('lists the privilege catalogue at GET /v1/privileges', async () => {
    const r = await t.request('GET', '/v1/privileges');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.privileges.map((p: { id: number }) => p.id),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(r.json.privileges[0].name, 'VEHICLE_NON_LOCATION_DATA');
  });

  let firstGrant: { body: Record<string, unknown>; requestId: string };
  const exp = day();

  it('serves the SetPrivilegesSign payload at GET and at POST without a signature', async () => {
    const r = await t.request('GET', share(vehicle.id) + q(bob.address, '3,1', exp), { token: aliceToken });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.primaryType, 'SetPrivilegesSign');
    assert.deepEqual(r.json.message, { tokenId: vehicle.tokenId, privIds: ['1', '3'], user: bob.address, expires: String(Date.parse(exp) / 1000), nonce: '0' });
    const p = await t.request('POST', share(vehicle.id), { token: aliceToken, body: { grantee: bob.address, privileges: [1, 3], expiresAt: exp } });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual(p.json, r.json);
  });

  it('grants privileges: the grantee sees the vehicle in /shared and the owner lists the share Active', async () => {
    firstGrant = await grant([1, 3], exp);
    const d = await until("the vehicle in bob's /shared", () => sharedWith(bobToken));
    assert.deepEqual(d.privileges, [
      { id: 1, name: 'VEHICLE_NON_LOCATION_DATA', expiresAt: new Date(exp).toISOString() },
      { id: 3, name: 'VEHICLE_CURRENT_LOCATION', expiresAt: new Date(exp).toISOString() },
    ]);
    const s = await sharesOf(bob.address);
    assert.equal(s.length, 1, JSON.stringify(s));
    assert.equal(s[0]!.status, 'Active');
    assert.equal(s[0]!.requestId, firstGrant.requestId);
    assert.deepEqual(s[0]!.privileges.map((p) => p.id), [1, 3]);
  });

  it('shows the vehicle to anyone who signs in later with the grantee address', async () => {
    const newcomer = await t.token('bob-signs-up-later', bob.address);
    assert.ok(await sharedWith(newcomer));
    assert.equal(await sharedWith(await t.token('someone-else', key('someone').address)), undefined);
  });

  it("returns 404 on every sharing route for another user's vehicle", async () => {
    const statuses = [
      (await t.request('GET', share(vehicle.id) + q(alice.address, '1', exp), { token: bobToken })).status,
      (await t.request('POST', share(vehicle.id), { token: bobToken, body: { ...firstGrant.body } })).status,
      (await t.request('GET', unshare(vehicle.id) + `?grantee=${bob.address}`, { token: bobToken })).status,
      (await t.request('POST', unshare(vehicle.id), { token: bobToken, body: { grantee: bob.address } })).status,
      (await t.request('GET', `/v1/user/devices/${vehicle.id}/shares`, { token: bobToken })).status,
    ];
    assert.deepEqual(statuses, [404, 404, 404, 404, 404]);
  });

  it('revokes everything the grantee holds, and refuses the replayed grant afterwards', async () => {
    const r = await t.request('GET', unshare(vehicle.id) + `?grantee=${bob.address}`, { token: aliceToken });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.message.privIds, ['1', '3']);
    assert.equal(r.json.message.expires, '0');
    assert.equal(r.json.message.nonce, '1');
    const p = await t.request('POST', unshare(vehicle.id), { token: aliceToken, body: { grantee: bob.address, signature: await signTyped(alice, r.json as Payload) } });
    assert.equal(p.status, 202, p.text);
    await confirmed(p.json.requestId, aliceToken);
    await until("the vehicle gone from bob's /shared", async () => !(await sharedWith(bobToken)));
    assert.deepEqual((await sharesOf(bob.address)).map((s) => s.status), ['Revoked']);

    const replay = await t.request('POST', share(vehicle.id), { token: aliceToken, body: firstGrant.body });
    assert.equal(replay.status, 400, replay.text);
    assert.match(replay.json.message, /privilege nonce 2/);
    assert.equal(await sharedWith(bobToken), undefined);
  });

  it('hides a share once it expires, without any write', async () => {
    const soon = new Date(Date.now() + clockOffsetMs + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const { requestId } = await grant([1], soon);
    await until("the vehicle in bob's /shared", () => sharedWith(bobToken));
    clockOffsetMs += 2 * 3_600_000;
    assert.equal(await sharedWith(bobToken), undefined);
    const s = await sharesOf(bob.address);
    assert.deepEqual(
      s.map((x) => [x.requestId, x.status]),
      [
        [requestId, 'Expired'],
        [firstGrant.requestId, 'Revoked'],
      ],
    );
  });

  it('refuses bad grants with a 400 naming the field', async () => {
    const cases: [string, string, string, RegExp][] = [
      [alice.address, '1', day(), /grantee is the vehicle owner/],
      [bob.address, '99', day(), /unknown privilege id "99"/],
      [bob.address, '', day(), /privileges/],
      ['0x1234', '1', day(), /grantee must be an Ethereum address/],
      [bob.address, '1', '2001-01-01T00:00:00Z', /not in the future/],
      [bob.address, '1', new Date(Date.now() + clockOffsetMs + 400 * 86_400_000).toISOString(), /more than 365 days/],
      [bob.address, '1', 'tomorrow', /expiresAt must be an RFC 3339/],
    ];
    for (const [grantee, privs, expiresAt, msg] of cases) {
      const g = await t.request('GET', share(vehicle.id) + q(grantee, privs, expiresAt), { token: aliceToken });
      assert.equal(g.status, 400, `GET ${grantee} ${privs} ${expiresAt}: ${g.text}`);
      assert.match(g.json.message, msg);
      const body = { grantee, privileges: privs.split(',').filter(Boolean).map(Number), expiresAt };
      const p = await t.request('POST', share(vehicle.id), { token: aliceToken, body });
      assert.equal(p.status, 400, `POST ${JSON.stringify(body)}: ${p.text}`);
    }
  });

  it('answers 409 for a vehicle that is not minted, and for a second change in flight for the same grantee', async () => {
    const r = await t.request('POST', '/v1/user/devices', { token: aliceToken, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    const g = await t.request('GET', share(r.json.userDevice.id) + q(bob.address, '1', day()), { token: aliceToken });
    assert.equal(g.status, 409, g.text);

    await app.relayer.stop();
    try {
      const exp2 = day();
      const payload = (await t.request('GET', share(vehicle.id) + q(bob.address, '2', exp2), { token: aliceToken })).json as Payload;
      const body = { grantee: bob.address, privileges: [2], expiresAt: exp2, signature: await signTyped(alice, payload) };
      const first = await t.request('POST', share(vehicle.id), { token: aliceToken, body });
      assert.equal(first.status, 202, first.text);
      assert.deepEqual((await sharesOf(bob.address)).map((s) => s.status)[0], 'Pending');
      const second = await t.request('POST', share(vehicle.id), { token: aliceToken, body });
      assert.equal(second.status, 409, second.text);
      assert.match(second.json.message, /already in progress/);
    } finally {
      app.relayer.start();
    }
  });
});
