// What a share lets a grantee do, end to end (issue 14 items 2 and 3): reading a shared vehicle's
// error codes needs privilege 1, a grantee without it is told so (403), anyone holding nothing on
// the vehicle gets the 404 of a vehicle that does not exist, and a transfer of the vehicle NFT
// ends every share. Real grants signed by the owner, relayed and indexed on a real anvil.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { nodeNftAbi } from '../../src/chain/abi/index.ts';
import type { TestApp } from '../helpers/app.ts';
import { signTyped, startChainApp, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`sharing access e2e ${label}`)));
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('a shared vehicle as its grantees see it', () => {
  let app: ChainApp;
  let t: TestApp;
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  let alice: LocalAccount; // the owner; a funded anvil account, so that she can transfer the NFT herself
  const bob = key('bob'); // holds privilege 1
  const carol = key('carol'); // holds privilege 3 only
  const dave = key('dave'); // holds nothing
  const erin = key('erin'); // buys the vehicle
  const tokens: Record<string, string> = {};
  let vehicle: { id: string; tokenId: bigint };
  const errorCodesOf = (id: string, query = '') => `/v1/user/devices/${id}/error-codes${query}`;

  async function confirmed(requestId: string): Promise<void> {
    await until(`request ${requestId} confirmed`, async () => {
      const r = await t.request('GET', `/v1/transactions/${requestId}`, { token: tokens.alice });
      assert.notEqual(r.json.status, 'Failed', r.text);
      return r.json.status === 'Confirmed';
    });
  }

  async function grant(grantee: LocalAccount, privileges: number[], expiresAt: string): Promise<void> {
    const path = `/v1/user/devices/${vehicle.id}/commands/share`;
    const g = await t.request('GET', `${path}?grantee=${grantee.address}&privileges=${privileges.join(',')}&expiresAt=${encodeURIComponent(expiresAt)}`, { token: tokens.alice });
    assert.equal(g.status, 200, g.text);
    const body = { grantee: grantee.address, privileges, expiresAt, signature: await signTyped(alice, g.json as Payload) };
    const p = await t.request('POST', path, { token: tokens.alice, body });
    assert.equal(p.status, 202, p.text);
    await confirmed(p.json.requestId);
  }

  const sharedWith = async (who: string) => {
    const r = await t.request('GET', '/v1/user/devices/shared', { token: tokens[who] });
    assert.equal(r.status, 200, r.text);
    return (r.json.sharedDevices as { id: string }[]).some((d) => d.id === vehicle.id);
  };

  before(async () => {
    app = await startChainApp({ deps: { now: () => new Date(now()) } });
    t = app.t;
    alice = app.c.accounts.alice;
    for (const [who, account] of Object.entries({ alice, bob, carol, dave, erin })) tokens[who] = await t.token(who, account.address);

    let r = await t.request('POST', '/v1/user/devices', { token: tokens.alice, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);
    const id = r.json.userDevice.id as string;
    const payload = (await t.request('GET', `/v1/user/devices/${id}/commands/mint`, { token: tokens.alice })).json as Payload;
    r = await t.request('POST', `/v1/user/devices/${id}/commands/mint`, { token: tokens.alice, body: { signature: await signTyped(alice, payload) } });
    assert.equal(r.status, 202, r.text);
    await confirmed(r.json.requestId);
    const tokenId = await until('token id', async () => {
      const me = await t.request('GET', '/v1/user/devices/me', { token: tokens.alice });
      return (me.json.userDevices as { id: string; nft: { tokenId: string | null } | null }[]).find((d) => d.id === id)?.nft?.tokenId;
    });
    vehicle = { id, tokenId: BigInt(tokenId) };
    r = await t.request('POST', errorCodesOf(id), { token: tokens.alice, body: { errorCodes: ['P0106'] } });
    assert.equal(r.status, 200, r.text);

    const day = rfc3339(now() + 86_400_000);
    await Promise.all([grant(bob, [1], day), grant(carol, [3], day)]);
    await until('the vehicle in bob’s and carol’s /shared', async () => (await sharedWith('bob')) && (await sharedWith('carol')));
  });
  after(() => app?.close());

  it("answers each caller of GET …/error-codes by what it holds on the vehicle", async () => {
    const missing = '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ'; // a well-formed id no vehicle has
    const cases: { who: string; caller: string; id: string; status: number; message?: RegExp }[] = [
      { who: 'the owner', caller: 'alice', id: vehicle.id, status: 200 },
      { who: 'a grantee holding privilege 1', caller: 'bob', id: vehicle.id, status: 200 },
      {
        who: 'a grantee holding another privilege only',
        caller: 'carol',
        id: vehicle.id,
        status: 403,
        message: /^privilege 1 \(VEHICLE_NON_LOCATION_DATA\) required to read this vehicle's error codes; your address holds 3 \(VEHICLE_CURRENT_LOCATION\)/,
      },
      { who: 'a stranger', caller: 'dave', id: vehicle.id, status: 404 },
      { who: 'a grantee asking for a vehicle that does not exist', caller: 'bob', id: missing, status: 404 },
    ];
    const notFound = (await t.request('GET', errorCodesOf(missing), { token: tokens.alice })).json;
    for (const c of cases) {
      const r = await t.request('GET', errorCodesOf(c.id), { token: tokens[c.caller] });
      assert.equal(r.status, c.status, `${c.who}: ${r.text}`);
      if (c.status === 200) assert.deepEqual(r.json.queries.map((q: { errorCodes: { code: string }[] }) => q.errorCodes.map((e) => e.code)), [['P0106']], c.who);
      if (c.status === 403) {
        assert.equal(r.json.error, 'FORBIDDEN', c.who);
        assert.match(r.json.message, c.message!, c.who);
      }
      // Nothing tells a stranger the vehicle exists: the same body as for an unknown id.
      if (c.status === 404) assert.deepEqual({ ...r.json, requestId: undefined }, { ...notFound, requestId: undefined }, c.who);
    }
  });

  it('keeps writing error codes to the owner', async () => {
    const r = await t.request('POST', errorCodesOf(vehicle.id), { token: tokens.bob, body: { errorCodes: ['P0300'] } });
    assert.equal(r.status, 404, r.text);
  });

  it('answers a grantee whose share has expired as a stranger, without any write', async () => {
    clockOffsetMs += 2 * 86_400_000;
    try {
      // A URL bob has not read yet: the response cache may hold his earlier 200 for up to 2 s.
      const r = await t.request('GET', errorCodesOf(vehicle.id, '?limit=5'), { token: tokens.bob });
      assert.equal(r.status, 404, r.text);
      assert.equal(await sharedWith('bob'), false);
    } finally {
      clockOffsetMs -= 2 * 86_400_000;
    }
  });

  it('ends every share when the owner transfers the vehicle NFT, and lists them Revoked to the new owner', async () => {
    const hash = await app.c.wallet(alice).writeContract({
      address: app.c.deployment.vehicleId,
      abi: nodeNftAbi,
      functionName: 'transferFrom',
      args: [alice.address, erin.address, vehicle.tokenId],
      account: alice,
      chain: undefined,
    });
    assert.equal((await app.c.publicClient.waitForTransactionReceipt({ hash })).status, 'success');

    await until('the vehicle gone from bob’s and carol’s /shared', async () => !(await sharedWith('bob')) && !(await sharedWith('carol')));
    const shares = await until('the shares listed to erin', async () => {
      const r = await t.request('GET', `/v1/user/devices/${vehicle.id}/shares`, { token: tokens.erin });
      return r.status === 200 ? (r.json.shares as { grantee: string; status: string; privileges: { id: number }[] }[]) : undefined;
    });
    assert.deepEqual(
      shares.map((s) => [s.grantee, s.status, s.privileges.map((p) => p.id)]).sort(),
      [
        [bob.address, 'Revoked', [1]],
        [carol.address, 'Revoked', [3]],
      ].sort(),
    );
    const byCaller = async (caller: string) => (await t.request('GET', errorCodesOf(vehicle.id, '?limit=6'), { token: tokens[caller] })).status;
    assert.deepEqual({ bob: await byCaller('bob'), carol: await byCaller('carol'), erin: await byCaller('erin') }, { bob: 404, carol: 404, erin: 200 });
    assert.equal((await t.request('GET', `/v1/user/devices/${vehicle.id}/shares`, { token: tokens.alice })).status, 404, 'alice no longer owns it');
  });
});
