// Claiming aftermarket devices end to end: the real app over HTTP, a real anvil with the registry,
// the relayer and the indexer in-process. Devices are minted by their manufacturer on chain; the
// user and the device key sign the payload the way a client does (client.mjs `signTyped`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import { createTestApp } from '../helpers/app.ts';
import { testConfig } from '../helpers/app.ts';
import { signTyped, startChainApp, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';
import { withLowV } from '../chain/helpers.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`claim e2e ${label}`)));

describe('aftermarket device claim end to end', () => {
  let env: ChainApp;
  const alice = key('alice');
  const bob = key('bob');
  let aliceToken: string;
  let bobToken: string;
  let n = 0;

  before(async () => {
    env = await startChainApp();
    aliceToken = await env.t.token('alice', alice.address);
    bobToken = await env.t.token('bob', bob.address);
  });
  after(async () => env?.close());

  /** A device minted by AutoPi's owner on chain, then indexed. */
  async function mintDevice(serial = `claim-e2e-${++n}-${Date.now()}`) {
    const { c } = env;
    const deviceKey = key(`device ${serial}`);
    const [minted] = await mintAftermarketDevices({
      publicClient: c.publicClient,
      walletClient: c.wallet(c.accounts.manufacturer),
      registry: c.deployment.registry,
      manufacturerNode: c.seed.manufacturers.AutoPi!,
      devices: [{ address: deviceKey.address, serial }],
    });
    await until(`device ${serial} indexed`, async () => (await info(serial, aliceToken)).status === 200);
    return { serial, tokenId: minted!.tokenId, key: deviceKey };
  }

  const base = (serial: string) => `/v1/aftermarket/device/by-serial/${encodeURIComponent(serial)}`;
  const info = (serial: string, token: string) => env.t.request('GET', base(serial), { token });
  const claimPath = (serial: string) => `${base(serial)}/commands/claim`;

  async function payload(serial: string, token: string): Promise<Payload> {
    const r = await env.t.request('GET', claimPath(serial), { token });
    assert.equal(r.status, 200, r.text);
    return r.json as Payload;
  }

  async function signedBody(serial: string, user: LocalAccount, device: LocalAccount, token: string) {
    const p = await payload(serial, token);
    return { userSignature: await signTyped(user, p), aftermarketDeviceSignature: await signTyped(device, p) };
  }

  const settled = (requestId: string, token: string) =>
    until(`request ${requestId} settled`, async () => {
      const r = await env.t.request('GET', `/v1/transactions/${requestId}`, { token });
      assert.equal(r.status, 200, r.text);
      return r.json.status === 'Confirmed' || r.json.status === 'Failed' ? r.json : undefined;
    });

  const ownedBy = (serial: string, token: string, address: string) =>
    until(`${serial} owned by ${address}`, async () => {
      const r = await info(serial, token);
      return r.status === 200 && r.json.ownerAddress === address ? r.json : undefined;
    });

  let claimed: { serial: string; tokenId: bigint; key: LocalAccount };

  it('serves the ClaimAftermarketDeviceSign payload for the caller, and the same payload to POST without signatures', async () => {
    const d = await mintDevice();
    const p = await payload(d.serial, aliceToken);
    assert.equal(p.primaryType, 'ClaimAftermarketDeviceSign');
    assert.deepEqual(p.message, { aftermarketDeviceNode: d.tokenId.toString(), owner: alice.address });
    assert.deepEqual(p.domain, { name: 'DIMO', version: '1', chainId: env.c.chainId, verifyingContract: env.c.deployment.registry });
    for (const body of [undefined, {}, { claimRequest: {} }, '']) {
      const r = await env.t.request('POST', claimPath(d.serial), { token: aliceToken, body, headers: body === '' ? { 'content-type': 'application/json' } : {} });
      assert.equal(r.status, 200, `${JSON.stringify(body)}: ${r.text}`);
      assert.deepEqual(r.json, p);
    }
  });

  it('refuses bad input: unknown serial 404, no address 409, wrong, swapped, short or missing signatures 400', async () => {
    const d = await mintDevice();
    assert.equal((await env.t.request('GET', claimPath('no-such-device'), { token: aliceToken })).status, 404);
    assert.equal((await env.t.request('POST', claimPath('no-such-device'), { token: aliceToken, body: {} })).status, 404);

    const nobody = await env.t.token('nobody');
    const na = await env.t.request('GET', claimPath(d.serial), { token: nobody });
    assert.equal(na.status, 409);
    assert.match(na.json.message, /no Ethereum address/);

    const p = await payload(d.serial, aliceToken);
    const good = { userSignature: await signTyped(alice, p), aftermarketDeviceSignature: await signTyped(d.key, p) };
    const post = (body: unknown) => env.t.request('POST', claimPath(d.serial), { token: aliceToken, body });

    let r = await post({ userSignature: good.aftermarketDeviceSignature, aftermarketDeviceSignature: good.userSignature });
    assert.equal(r.status, 400, 'swapped');
    assert.match(r.json.message, /userSignature does not match your address.*swapped/);

    r = await post({ ...good, aftermarketDeviceSignature: await signTyped(key('other device'), p) });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /aftermarketDeviceSignature does not match the device address/);

    // The right keys, the wrong message: another device's token id.
    const wrong = { ...p, message: { ...p.message, aftermarketDeviceNode: (d.tokenId + 1000n).toString() } };
    r = await post({ userSignature: await signTyped(alice, wrong), aftermarketDeviceSignature: await signTyped(d.key, wrong) });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /userSignature does not match/);

    r = await post({ ...good, userSignature: good.userSignature.slice(0, -2) });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /userSignature must be 65 bytes long, got 64/);
    r = await post({ userSignature: good.userSignature });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /aftermarketDeviceSignature is required/);

    // Bob cannot claim with Alice's signatures: his payload names him.
    r = await env.t.request('POST', claimPath(d.serial), { token: bobToken, body: good });
    assert.equal(r.status, 400);
    const rows = await env.t.database.db.select().from(metaTransactionRequests).where(eq(metaTransactionRequests.kind, 'Claim'));
    assert.equal(rows.length, 0, 'nothing was queued');
  });

  it('claims with both signatures (v as 0/1, SDK wrapper): 202, 409 while in flight, then Confirmed and owned; hidden from others', async () => {
    const d = await mintDevice();
    const body = await signedBody(d.serial, alice, d.key, aliceToken);
    await env.relayer.stop();
    let requestId: string;
    try {
      const r = await env.t.request('POST', claimPath(d.serial), { token: aliceToken, body: { claimRequest: { ...body, userSignature: withLowV(body.userSignature) } } });
      assert.equal(r.status, 202, r.text);
      assert.match(r.json.requestId, /^[0-9A-Za-z]{27}$/);
      assert.equal(r.json.status, 'Unsubmitted');
      requestId = r.json.requestId;

      for (const [method, token] of [['GET', aliceToken], ['POST', aliceToken], ['GET', bobToken]] as const) {
        const again = await env.t.request(method, claimPath(d.serial), { token, body: method === 'POST' ? body : undefined });
        assert.equal(again.status, 409, `${method}: ${again.text}`);
        assert.match(again.json.message, /Claiming transaction in progress/);
      }
      const seen = await info(d.serial, aliceToken);
      assert.equal(seen.json.claim.requestId, requestId);
      assert.equal(seen.json.ownerAddress, null, 'the owner comes from the chain, not from the request');
    } finally {
      env.relayer.start();
    }
    const done = await settled(requestId, aliceToken);
    assert.equal(done.status, 'Confirmed', JSON.stringify(done));
    const shown = await ownedBy(d.serial, aliceToken, alice.address);
    assert.equal(shown.beneficiaryAddress, alice.address);
    assert.equal(shown.claim.status, 'Confirmed');
    assert.match(shown.claim.hash, /^0x[0-9a-f]{64}$/);

    const hidden = await info(d.serial, bobToken);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.message, 'AftermarketDevice not minted, or serial is invalid.');
    assert.equal((await env.t.request('GET', claimPath(d.serial), { token: bobToken })).status, 404);
    const again = await env.t.request('GET', claimPath(d.serial), { token: aliceToken });
    assert.equal(again.status, 409);
    assert.match(again.json.message, /already claimed/);
    claimed = d;
  });

  it('a claim that reverts on chain ends Failed with a readable reason; unclaim then frees the device for a retry', async () => {
    const { c } = env;
    const d = await mintDevice();
    const body = await signedBody(d.serial, alice, d.key, aliceToken);
    await env.relayer.stop();
    let requestId: string;
    try {
      const r = await env.t.request('POST', claimPath(d.serial), { token: aliceToken, body });
      assert.equal(r.status, 202, r.text);
      requestId = r.json.requestId;
      // Meanwhile Bob claims it directly on chain.
      const bobSig = await c.sign(bob, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: d.tokenId, owner: bob.address });
      const devSig = await c.sign(d.key, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: d.tokenId, owner: bob.address });
      await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [d.tokenId, bob.address, bobSig, devSig]);
    } finally {
      env.relayer.start();
    }
    const failed = await settled(requestId, aliceToken);
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.failureReason, `Aftermarket device ${d.tokenId} already claimed.`);
    await ownedBy(d.serial, bobToken, bob.address);
    assert.equal((await info(d.serial, aliceToken)).status, 404, "Bob's device now");

    // Not claimable while Bob owns it: a 409, not a relayed revert.
    const bobTry = await env.t.request('GET', claimPath(d.serial), { token: bobToken });
    assert.equal(bobTry.status, 409);

    // Bob hands it back (development unclaim); Alice's failed request no longer blocks her.
    const un = await env.t.request('POST', `${base(d.serial)}/commands/unclaim`, { token: bobToken });
    assert.equal(un.status, 202, un.text);
    assert.equal((await settled(un.json.requestId, bobToken)).status, 'Confirmed');
    await until('unclaimed', async () => {
      const r = await info(d.serial, aliceToken);
      return r.status === 200 && r.json.ownerAddress === null;
    });
    const retry = await env.t.request('POST', claimPath(d.serial), { token: aliceToken, body: await signedBody(d.serial, alice, d.key, aliceToken) });
    assert.equal(retry.status, 202, retry.text);
    assert.equal((await settled(retry.json.requestId, aliceToken)).status, 'Confirmed');
    await ownedBy(d.serial, aliceToken, alice.address);
  });

  it('refuses to relay a claim the chain already reflects (claimed on chain, not indexed yet)', async () => {
    const { c } = env;
    const d = await mintDevice();
    const body = await signedBody(d.serial, alice, d.key, aliceToken);
    await env.indexer.stop();
    try {
      const sig = await c.sign(bob, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: d.tokenId, owner: bob.address });
      const devSig = await c.sign(d.key, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: d.tokenId, owner: bob.address });
      await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [d.tokenId, bob.address, sig, devSig]);
      const r = await env.t.request('POST', claimPath(d.serial), { token: aliceToken, body });
      assert.equal(r.status, 409, r.text);
      assert.match(r.json.message, /already claimed on chain/);
    } finally {
      env.indexer.start();
    }
  });

  it('unclaim: only the owner, not while paired, 409 when not claimed; the claim is cleared on chain and in the database', async () => {
    assert.ok(claimed, 'needs the device claimed above');
    const unclaim = (serial: string, token: string) => env.t.request('POST', `${base(serial)}/commands/unclaim`, { token });
    assert.equal((await unclaim(claimed.serial, bobToken)).status, 404, "another user's claimed device is hidden");
    assert.equal((await unclaim('no-such-device', aliceToken)).status, 404);
    const open = await mintDevice();
    const notClaimed = await unclaim(open.serial, aliceToken);
    assert.equal(notClaimed.status, 409);
    assert.match(notClaimed.json.message, /not claimed/);

    const r = await unclaim(claimed.serial, aliceToken);
    assert.equal(r.status, 202, r.text);
    const twice = await unclaim(claimed.serial, aliceToken);
    assert.ok(twice.status === 409, `second unclaim: ${twice.status} ${twice.text}`);
    assert.equal((await settled(r.json.requestId, aliceToken)).status, 'Confirmed');
    const shown = await until('unclaimed', async () => {
      const x = await info(claimed.serial, bobToken);
      return x.status === 200 && x.json.ownerAddress === null ? x.json : undefined;
    });
    assert.equal(shown.claim, null, 'the undone claim is history');
    assert.equal(await env.c.read('isAftermarketDeviceClaimed', [claimed.tokenId]), false);
    // Claimable again, by anyone.
    assert.equal((await env.t.request('GET', claimPath(claimed.serial), { token: bobToken })).status, 200);
  });

  it('has no unclaim route in production mode', async () => {
    const prod = await createTestApp({ deps: { config: { ...testConfig(), mode: 'production' }, chain: env.ctx } });
    try {
      const token = await prod.token('alice', alice.address);
      const r = await prod.request('POST', '/v1/aftermarket/device/by-serial/anything/commands/unclaim', { token });
      assert.equal(r.status, 404);
      assert.equal(r.json.error, 'ROUTE_NOT_FOUND');
      const claim = await prod.request('GET', '/v1/aftermarket/device/by-serial/anything/commands/claim', { token });
      assert.equal(claim.status, 404);
      assert.equal(claim.json.error, 'NOT_FOUND', 'the claim route exists');
    } finally {
      await prod.close();
    }
  });
});
