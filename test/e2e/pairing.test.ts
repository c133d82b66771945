// Pairing, unpairing and synthetic device minting end to end: the real app over HTTP, a real
// anvil with the registry, the relayer and the indexer in-process, and signatures made the way a
// client makes them. Devices are minted by their manufacturer on chain and claimed through the API.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toBytes, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { mintAftermarketDevices, roleId } from '../../src/chain/deploy.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import { startChainApp, signTyped, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';
import { withLowV } from '../chain/helpers.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`pairing e2e ${label}`)));

describe('aftermarket device pairing end to end', () => {
  let env: ChainApp;
  const alice = key('alice');
  const bob = key('bob');
  let aliceToken: string;
  let bobToken: string;
  let serialNo = 0;

  before(async () => {
    env = await startChainApp();
    aliceToken = await env.t.token('alice', alice.address);
    bobToken = await env.t.token('bob', bob.address);
    // Lets the test play "someone else" on chain (direct pair/unpair) without the relayer's nonces.
    const { deployer } = env.c.accounts;
    for (const role of ['PAIR_AD_ROLE', 'UNPAIR_AD_ROLE'] as const) await env.c.send(deployer, 'grantRole', [roleId(role), deployer.address]);
  });
  after(async () => env?.close());

  const req = (method: string, path: string, token: string | undefined, body?: unknown) => env.t.request(method, path, { token, body });
  const pairPath = (id: string, q = '') => `/v1/user/devices/${id}/aftermarket/commands/pair${q}`;
  const unpairPath = (id: string) => `/v1/user/devices/${id}/aftermarket/commands/unpair`;
  const bySerial = (serial: string) => `/v1/aftermarket/device/by-serial/${encodeURIComponent(serial)}`;

  async function mintVehicle(token: string, owner: LocalAccount): Promise<{ id: string; tokenId: bigint }> {
    const r = await req('POST', '/v1/user/devices', token, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
    assert.equal(r.status, 201, r.text);
    const id = r.json.userDevice.id as string;
    const payload = (await req('GET', `/v1/user/devices/${id}/commands/mint`, token)).json as Payload;
    const m = await req('POST', `/v1/user/devices/${id}/commands/mint`, token, { signature: await signTyped(owner, payload) });
    assert.equal(m.status, 202, m.text);
    const tokenId = await until('vehicle minted', async () => {
      const me = await req('GET', '/v1/user/devices/me', token);
      const d = me.json.userDevices.find((u: { id: string }) => u.id === id);
      return d?.nft?.tokenId != null ? BigInt(d.nft.tokenId) : undefined;
    });
    return { id, tokenId };
  }

  /** A device minted by its manufacturer on chain, then claimed through the API by `owner`. */
  async function claimedDevice(token: string, owner: LocalAccount): Promise<{ serial: string; key: LocalAccount; tokenId: bigint }> {
    const serial = `pair-e2e-${++serialNo}`;
    const deviceKey = key(`device ${serial}`);
    const [minted] = await mintAftermarketDevices({
      publicClient: env.c.publicClient,
      walletClient: env.c.wallet(env.c.accounts.manufacturer),
      registry: env.c.deployment.registry,
      manufacturerNode: env.c.seed.manufacturers.AutoPi!,
      devices: [{ serial, address: deviceKey.address }],
    });
    await until('device indexed', async () => (await req('GET', bySerial(serial), token)).status === 200);
    const td = (await req('GET', `${bySerial(serial)}/commands/claim`, token)).json as Payload;
    const r = await req('POST', `${bySerial(serial)}/commands/claim`, token, { userSignature: await signTyped(owner, td), aftermarketDeviceSignature: await signTyped(deviceKey, td) });
    assert.equal(r.status, 202, r.text);
    await until('device claimed', async () => (await req('GET', bySerial(serial), token)).json?.ownerAddress === owner.address);
    return { serial, key: deviceKey, tokenId: minted!.tokenId };
  }

  const deviceInfo = async (serial: string, token: string) => (await req('GET', bySerial(serial), token)).json;
  const pairedTo = (serial: string, token: string, vehicle: bigint | null) =>
    until(`device ${serial} paired to ${vehicle}`, async () => {
      const info = await deviceInfo(serial, token);
      return (vehicle === null ? info?.vehicleTokenId === null : String(info?.vehicleTokenId) === String(vehicle)) ? info : undefined;
    });
  const meVehicle = async (token: string, id: string) => (await req('GET', '/v1/user/devices/me', token)).json.userDevices.find((u: { id: string }) => u.id === id);

  it('pairs the caller’s only claimed device with their vehicle, shows it in /me, unpairs, and re-pairs', async () => {
    const v = await mintVehicle(aliceToken, alice);
    const d = await claimedDevice(aliceToken, alice);

    // No serial: the caller's one claimed, unpaired device.
    let r = await req('GET', pairPath(v.id), aliceToken);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.primaryType, 'PairAftermarketDeviceSign');
    assert.deepEqual(r.json.message, { aftermarketDeviceNode: d.tokenId.toString(), vehicleNode: v.tokenId.toString() });
    assert.deepEqual(r.json.types.PairAftermarketDeviceSign, [
      { name: 'aftermarketDeviceNode', type: 'uint256' },
      { name: 'vehicleNode', type: 'uint256' },
    ]);
    const pairTd = r.json as Payload;
    const sameByExternalId = await req('GET', pairPath(v.id, `?external_id=${d.serial}`), aliceToken);
    assert.deepEqual(sameByExternalId.json, pairTd);

    const pairSig = withLowV(await signTyped(alice, pairTd));
    r = await req('POST', pairPath(v.id), aliceToken, { userSignature: pairSig });
    assert.equal(r.status, 202, r.text);
    const pairRequest = r.json.requestId as string;
    const info = await pairedTo(d.serial, aliceToken, v.tokenId);
    assert.equal(info.pair.requestId, pairRequest);
    assert.equal(info.userDeviceId, v.id);
    const tx = await until('pair confirmed', async () => {
      const x = await req('GET', `/v1/transactions/${pairRequest}`, aliceToken);
      return x.json?.status === 'Confirmed' ? x.json : undefined;
    });
    assert.match(tx.hash, /^0x[0-9a-f]{64}$/);

    const shown = await meVehicle(aliceToken, v.id);
    assert.deepEqual(shown.aftermarketDevice, { serial: d.serial, tokenId: Number(d.tokenId), address: d.key.address });

    // Replaying the signature while paired: the chain says it would change nothing.
    r = await req('POST', pairPath(v.id), aliceToken, { signature: pairSig, serial: d.serial });
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.message, /already paired/);
    assert.equal((await req('GET', pairPath(v.id, `?serial=${d.serial}`), aliceToken)).status, 409);

    // Unpair.
    r = await req('GET', unpairPath(v.id), aliceToken);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.primaryType, 'UnPairAftermarketDeviceSign');
    assert.ok(r.json.types.UnPairAftermarketDeviceSign);
    r = await req('POST', unpairPath(v.id), aliceToken, { userSignature: await signTyped(alice, r.json as Payload) });
    assert.equal(r.status, 202, r.text);
    const again = await req('GET', unpairPath(v.id), aliceToken);
    assert.ok(again.status === 409, again.text);
    await pairedTo(d.serial, aliceToken, null);
    assert.equal((await meVehicle(aliceToken, v.id)).aftermarketDevice, null);
    r = await req('GET', unpairPath(v.id), aliceToken);
    assert.equal(r.status, 409);
    assert.equal(r.json.message, 'Vehicle not paired with an aftermarket device.');

    // Re-pair: the same payload, so the same (deterministic) signature; the chain state allows it.
    r = await req('POST', pairPath(v.id), aliceToken, { signature: pairSig, externalId: d.serial });
    assert.equal(r.status, 202, r.text);
    await pairedTo(d.serial, aliceToken, v.tokenId);
  });

  it('unpairs with the serial or externalId the original\'s clients send, which must name the paired device', async () => {
    const v = await mintVehicle(aliceToken, alice);
    const d = await claimedDevice(aliceToken, alice);
    const pairTd = (await req('GET', pairPath(v.id, `?serial=${d.serial}`), aliceToken)).json as Payload;
    assert.equal((await req('POST', pairPath(v.id), aliceToken, { userSignature: await signTyped(alice, pairTd), serial: d.serial })).status, 202);
    await pairedTo(d.serial, aliceToken, v.tokenId);
    const unTd = (await req('GET', unpairPath(v.id), aliceToken)).json as Payload;
    const sig = await signTyped(alice, unTd);

    // Another device (an unknown serial, or one of the caller's own that is not paired here): 409, nothing relayed.
    const other = await claimedDevice(aliceToken, alice);
    for (const body of [{ userSignature: sig, serial: 'no-such-device' }, { userSignature: sig, externalId: other.serial }]) {
      const x = await req('POST', unpairPath(v.id), aliceToken, body);
      assert.equal(x.status, 409, x.text);
      assert.match(x.json.message, new RegExp(`not the device paired with this vehicle \\(${d.serial}\\)`));
    }
    assert.equal((await req('GET', unpairPath(v.id), aliceToken)).status, 200, 'still paired, no unpair in flight');
    const both = await req('POST', unpairPath(v.id), aliceToken, { userSignature: sig, serial: d.serial, externalId: other.serial });
    assert.equal(both.status, 400, both.text);
    assert.match(both.json.message, /synonym/);
    // Another user naming the right device on this vehicle: the same 404 as for a missing vehicle.
    const foreign = await req('POST', unpairPath(v.id), bobToken, { userSignature: sig, externalId: d.serial });
    assert.equal(foreign.status, 404, foreign.text);

    const r = await req('POST', unpairPath(v.id), aliceToken, { userSignature: sig, externalId: ` ${d.serial} ` });
    assert.equal(r.status, 202, r.text);
    await pairedTo(d.serial, aliceToken, null);
  });

  it("host pairing: B's device on A's vehicle needs the device key's signature; without it the device does not exist for A", async () => {
    const v = await mintVehicle(aliceToken, alice);
    const d = await claimedDevice(bobToken, bob);
    assert.equal((await req('GET', bySerial(d.serial), aliceToken)).status, 404, "B's claimed device is hidden from A");

    const r = await req('GET', pairPath(v.id, `?serial=${d.serial}`), aliceToken);
    assert.equal(r.status, 200, r.text);
    const td = r.json as Payload;
    const userSig = await signTyped(alice, td);
    const deviceSig = await signTyped(d.key, td);
    const stranger = await signTyped(key('stranger'), td);

    for (const body of [{ userSignature: userSig, serial: d.serial }, { userSignature: userSig, aftermarketDeviceSignature: stranger, serial: d.serial }]) {
      const x = await req('POST', pairPath(v.id), aliceToken, body);
      assert.equal(x.status, 404, x.text);
      assert.equal(x.json.message, 'AftermarketDevice not minted, or serial is invalid.');
    }
    // Swapped signatures: the device's where the owner's belongs.
    const swapped = await req('POST', pairPath(v.id), aliceToken, { userSignature: deviceSig, aftermarketDeviceSignature: deviceSig, serial: d.serial });
    assert.equal(swapped.status, 400, swapped.text);
    assert.match(swapped.json.message, /swapped/);
    // Someone who does not own the vehicle signed as user.
    const bobSigned = await req('POST', pairPath(v.id), aliceToken, { userSignature: await signTyped(bob, td), aftermarketDeviceSignature: deviceSig, serial: d.serial });
    assert.equal(bobSigned.status, 400, bobSigned.text);
    assert.match(bobSigned.json.message, new RegExp(`vehicle owner ${alice.address}`));

    const ok = await req('POST', pairPath(v.id), aliceToken, { userSignature: userSig, aftermarketDeviceSignature: deviceSig, serial: d.serial });
    assert.equal(ok.status, 202, ok.text);
    const info = await pairedTo(d.serial, bobToken, v.tokenId);
    assert.equal(info.ownerAddress, bob.address, 'the device stays B’s');
    // Now A, as the paired vehicle's owner, may read it.
    assert.equal((await req('GET', bySerial(d.serial), aliceToken)).status, 200);

    // Unpair signed by the device owner (B), sent by the vehicle's owner.
    const un = (await req('GET', unpairPath(v.id), aliceToken)).json as Payload;
    const stray = await req('POST', unpairPath(v.id), aliceToken, { userSignature: await signTyped(key('nobody'), un) });
    assert.equal(stray.status, 400, stray.text);
    assert.match(stray.json.message, /vehicle owner .* or the device owner/);
    const x = await req('POST', unpairPath(v.id), aliceToken, { signature: await signTyped(bob, un) });
    assert.equal(x.status, 202, x.text);
    await pairedTo(d.serial, bobToken, null);
  });

  it('refuses a second pairing while one is in flight, for the same device and for the same vehicle', async () => {
    const v = await mintVehicle(aliceToken, alice);
    const v2 = await mintVehicle(aliceToken, alice);
    const d1 = await claimedDevice(aliceToken, alice);
    const d2 = await claimedDevice(aliceToken, alice);
    const td = async (id: string, serial: string) => (await req('GET', pairPath(id, `?serial=${serial}`), aliceToken)).json as Payload;

    // Two claimed, unpaired devices: the caller must say which.
    const several = await req('GET', pairPath(v.id), aliceToken);
    assert.equal(several.status, 400, several.text);
    assert.ok(several.json.message.includes(d1.serial) && several.json.message.includes(d2.serial), several.json.message);

    const first = await td(v.id, d1.serial);
    const other = await td(v.id, d2.serial);
    const otherVehicle = await td(v2.id, d1.serial);
    await env.relayer.stop();
    try {
      const r = await req('POST', pairPath(v.id), aliceToken, { userSignature: await signTyped(alice, first), serial: d1.serial });
      assert.equal(r.status, 202, r.text);
      for (const [what, x] of [
        ['same pair', await req('POST', pairPath(v.id), aliceToken, { userSignature: await signTyped(alice, first), serial: d1.serial })],
        ['same device, other vehicle', await req('POST', pairPath(v2.id), aliceToken, { userSignature: await signTyped(alice, otherVehicle), serial: d1.serial })],
        ['GET, same device', await req('GET', pairPath(v2.id, `?serial=${d1.serial}`), aliceToken)],
      ] as const) {
        assert.equal(x.status, 409, `${what}: ${x.text}`);
        assert.match(x.json.message, /Aftermarket device already in the pairing process/, what);
      }
      for (const x of [
        await req('POST', pairPath(v.id), aliceToken, { userSignature: await signTyped(alice, other), serial: d2.serial }),
        await req('GET', pairPath(v.id, `?serial=${d2.serial}`), aliceToken),
      ]) {
        assert.equal(x.status, 409, x.text);
        assert.match(x.json.message, new RegExp(`Vehicle already in the pairing process with aftermarket device ${d1.tokenId}`));
      }
    } finally {
      env.relayer.start();
    }
    await pairedTo(d1.serial, aliceToken, v.tokenId);
    const x = await req('GET', pairPath(v.id, `?serial=${d2.serial}`), aliceToken);
    assert.equal(x.status, 409);
    assert.equal(x.json.message, `Vehicle already paired with aftermarket device ${d1.tokenId}.`);
    const y = await req('GET', pairPath(v2.id, `?serial=${d1.serial}`), aliceToken);
    assert.equal(y.status, 409);
    assert.equal(y.json.message, `Aftermarket device already paired to vehicle ${v.tokenId}.`);
  });

  it('a pairing the chain refuses ends Failed with a readable reason and frees the device for a retry', async () => {
    const v = await mintVehicle(aliceToken, alice);
    const d = await claimedDevice(aliceToken, alice);
    const intruder = await claimedDevice(aliceToken, alice);
    const td = (await req('GET', pairPath(v.id, `?serial=${d.serial}`), aliceToken)).json as Payload;
    const sig = await signTyped(alice, td);
    const { deployer } = env.c.accounts;
    let requestId: string;
    await env.relayer.stop();
    try {
      const r = await req('POST', pairPath(v.id), aliceToken, { userSignature: sig, serial: d.serial });
      assert.equal(r.status, 202, r.text);
      requestId = r.json.requestId;
      // Meanwhile another device gets paired with the vehicle on chain, outside this service.
      const msg = { aftermarketDeviceNode: intruder.tokenId, vehicleNode: v.tokenId };
      await env.c.send(deployer, 'pairAftermarketDeviceSign', [intruder.tokenId, v.tokenId, await env.c.sign(alice, 'PairAftermarketDeviceSign', msg)]);
    } finally {
      env.relayer.start();
    }
    const failed = await until('pair failed', async () => {
      const x = await req('GET', `/v1/transactions/${requestId!}`, aliceToken);
      return x.json?.status === 'Failed' ? x.json : undefined;
    });
    assert.equal(failed.failureReason, `Vehicle ${v.tokenId} is already paired.`);
    const info = await deviceInfo(d.serial, aliceToken);
    assert.equal(info.pair.status, 'Failed');
    assert.equal(info.vehicleTokenId, null);

    // The other device leaves again (on chain); the Failed request does not block a new attempt.
    await pairedTo(intruder.serial, aliceToken, v.tokenId);
    const unMsg = { aftermarketDeviceNode: intruder.tokenId, vehicleNode: v.tokenId };
    await env.c.send(deployer, 'unpairAftermarketDeviceSign', [intruder.tokenId, v.tokenId, await env.c.sign(alice, 'UnPairAftermarketDeviceSign', unMsg)]);
    await pairedTo(intruder.serial, aliceToken, null);
    const retry = await req('POST', pairPath(v.id), aliceToken, { userSignature: sig, serial: d.serial });
    assert.equal(retry.status, 202, retry.text);
    await pairedTo(d.serial, aliceToken, v.tokenId);
  });

  it('answers each pairing precondition with its own 409', async () => {
    // Not minted.
    const r = await req('POST', '/v1/user/devices', aliceToken, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
    const unminted = r.json.userDevice.id as string;
    for (const x of [await req('GET', pairPath(unminted, '?serial=x'), aliceToken), await req('GET', unpairPath(unminted), aliceToken)]) {
      assert.equal(x.status, 409, x.text);
      assert.equal(x.json.message, 'Vehicle not yet minted.');
    }
    // Device not claimed (readable by anyone while unclaimed).
    const v = await mintVehicle(aliceToken, alice);
    const serial = `pair-e2e-unclaimed-${++serialNo}`;
    await mintAftermarketDevices({
      publicClient: env.c.publicClient,
      walletClient: env.c.wallet(env.c.accounts.manufacturer),
      registry: env.c.deployment.registry,
      manufacturerNode: env.c.seed.manufacturers.AutoPi!,
      devices: [{ serial, address: key(`device ${serial}`).address }],
    });
    await until('device indexed', async () => (await req('GET', bySerial(serial), aliceToken)).status === 200);
    const x = await req('GET', pairPath(v.id, `?serial=${serial}`), aliceToken);
    assert.equal(x.status, 409, x.text);
    assert.equal(x.json.message, 'Aftermarket device not yet claimed.');
    // No claimed device at all (a fresh wallet), and an unknown serial.
    const carol = key('carol');
    const carolToken = await env.t.token('carol', carol.address);
    const cv = await mintVehicle(carolToken, carol);
    const none = await req('GET', pairPath(cv.id), carolToken);
    assert.equal(none.status, 409, none.text);
    assert.match(none.json.message, /no claimed, unpaired aftermarket device/);
    const unknown = await req('GET', pairPath(cv.id, '?serial=no-such-device'), carolToken);
    assert.equal(unknown.status, 404, unknown.text);
  });

  it('refuses malformed input with a 400 that names it', async () => {
    const v = await mintVehicle(aliceToken, alice);
    const d = await claimedDevice(aliceToken, alice);
    const td = (await req('GET', pairPath(v.id, `?serial=${d.serial}`), aliceToken)).json as Payload;
    const unpairShaped = { ...td, primaryType: 'UnPairAftermarketDeviceSign', types: { UnPairAftermarketDeviceSign: td.types.PairAftermarketDeviceSign! } } as Payload;
    const cases: [string, unknown, RegExp][] = [
      ['no signature', { serial: d.serial }, /userSignature is required/],
      ['not hex', { userSignature: '0xzz', serial: d.serial }, /userSignature/],
      ['64 bytes', { userSignature: `0x${'11'.repeat(64)}`, serial: d.serial }, /userSignature/],
      ['a device signature that is not hex', { userSignature: await signTyped(alice, td), aftermarketDeviceSignature: 'nope', serial: d.serial }, /aftermarketDeviceSignature/],
      ['signed over the unpair message', { userSignature: await signTyped(alice, unpairShaped), serial: d.serial }, /does not match the vehicle owner/],
      ['signed for another chain', { userSignature: await signTyped(alice, td, { chainId: 1 }), serial: d.serial }, /does not match the vehicle owner/],
      ['two different values for one field', { userSignature: await signTyped(alice, td), signature: `0x${'22'.repeat(65)}`, serial: d.serial }, /synonym/],
      ['two different serials', { userSignature: await signTyped(alice, td), serial: d.serial, externalId: 'other' }, /synonym/],
      ['a malformed serial', { userSignature: await signTyped(alice, td), serial: 'bad\u0007serial' }, /serial/],
    ];
    for (const [what, body, message] of cases) {
      const x = await req('POST', pairPath(v.id), aliceToken, body);
      assert.equal(x.status, 400, `${what}: ${x.text}`);
      assert.match(x.json.message, message, what);
    }
    for (const q of ['?serial=bad%07serial', '?serial=', '?serial=&bogus=1']) {
      const x = await req('GET', pairPath(v.id, q), aliceToken);
      assert.equal(x.status, 400, `${q}: ${x.text}`);
    }
    const un = await req('POST', unpairPath(v.id), aliceToken, { userSignature: '0x12' });
    assert.equal(un.status, 400);
  });

  it("answers 404 for another user's vehicle exactly as for a missing one, 400 for a malformed id, 401 without a token", async () => {
    const v = await mintVehicle(aliceToken, alice);
    const wellFormed = `0x${'11'.repeat(64)}1b`; // any 65 bytes with v = 27: the 404 comes first
    const routes: [string, (id: string) => string, unknown?][] = [
      ['GET', (id) => pairPath(id)],
      ['POST', (id) => pairPath(id), { userSignature: wellFormed }],
      ['GET', (id) => unpairPath(id)],
      ['POST', (id) => unpairPath(id), { userSignature: wellFormed }],
      ['GET', (id) => `/v1/user/devices/${id}/integrations/1/commands/mint`],
      ['POST', (id) => `/v1/user/devices/${id}/integrations/1/commands/mint`, { signature: wellFormed }],
    ];
    for (const [method, path, body] of routes) {
      const foreign = await req(method, path(v.id), bobToken, body);
      const missing = await req(method, path(newKsuid()), bobToken, body);
      assert.equal(foreign.status, 404, `${method} ${path('…')}: ${foreign.text}`);
      assert.deepEqual({ ...foreign.json, requestId: undefined }, { ...missing.json, requestId: undefined });
      assert.equal((await req(method, path('not-a-ksuid'), aliceToken, body)).status, 400);
      assert.equal((await req(method, path(v.id), undefined, body)).status, 401);
    }
  });

  describe('synthetic devices', () => {
    const mintPath = (id: string, integration: string | bigint) => `/v1/user/devices/${id}/integrations/${integration}/commands/mint`;

    it('mints a synthetic device with a server-derived wallet, shown in the vehicle’s integrations', async () => {
      const v = await mintVehicle(aliceToken, alice);
      const integration = env.c.seed.integrations.SmartCar!;
      await until('integration indexed', async () => (await req('GET', mintPath(v.id, integration), aliceToken)).status === 200);
      let r = await req('GET', mintPath(v.id, integration), aliceToken);
      assert.equal(r.json.primaryType, 'MintSyntheticDeviceSign');
      assert.deepEqual(r.json.message, { integrationNode: integration.toString(), vehicleNode: v.tokenId.toString() });
      const td = r.json as Payload;
      const sdk = await req('POST', mintPath(v.id, integration), aliceToken);
      assert.equal(sdk.status, 200, sdk.text);
      assert.deepEqual(sdk.json, td);

      r = await req('POST', mintPath(v.id, integration), aliceToken, { signature: await signTyped(bob, td) });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.message, /does not match the vehicle owner/);

      r = await req('POST', mintPath(v.id, integration), aliceToken, { userSignature: await signTyped(alice, td) });
      assert.equal(r.status, 202, r.text);
      const again = await req('POST', mintPath(v.id, integration), aliceToken, { signature: await signTyped(alice, td) });
      assert.equal(again.status, 409, again.text);
      assert.match(again.json.message, /already in progress/);

      const entry = await until('synthetic device minted', async () => {
        const u = await meVehicle(aliceToken, v.id);
        const i = u?.integrations?.find((x: { integrationId: string }) => x.integrationId === integration.toString());
        return i?.syntheticDevice?.tokenId != null ? i : undefined;
      });
      assert.equal(entry.syntheticDevice.status, 'Confirmed');
      assert.match(entry.syntheticDevice.address, /^0x[0-9a-fA-F]{40}$/);
      assert.match(entry.syntheticDevice.txHash, /^0x[0-9a-f]{64}$/);
      const onChain = await env.c.read('getSyntheticDeviceAddressById', [BigInt(entry.syntheticDevice.tokenId)]);
      assert.equal(onChain, entry.syntheticDevice.address as Address);

      const after = await req('GET', mintPath(v.id, integration), aliceToken);
      assert.equal(after.status, 409);
      assert.match(after.json.message, /already has synthetic device/);
      const other = await req('GET', mintPath(v.id, env.c.seed.integrations.Tesla!), aliceToken);
      assert.equal(other.status, 409, 'one synthetic device per vehicle, whatever the integration');
    });

    it('answers 404 for an unknown integration, 409 for an unminted vehicle, 400 for malformed token ids', async () => {
      const v = await mintVehicle(aliceToken, alice);
      assert.equal((await req('GET', mintPath(v.id, 999_999n), aliceToken)).status, 404);
      const r = await req('POST', '/v1/user/devices', aliceToken, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
      const unminted = await req('GET', mintPath(r.json.userDevice.id, env.c.seed.integrations.SmartCar!), aliceToken);
      assert.equal(unminted.status, 409, unminted.text);
      assert.equal(unminted.json.message, 'Vehicle not yet minted.');
      for (const bad of ['-1', '%2B1', '0x1', '1e3', ' 1', '1'.repeat(79), (1n << 256n).toString()]) {
        const x = await req('GET', mintPath(v.id, bad), aliceToken);
        assert.equal(x.status, 400, `${bad}: ${x.text}`);
        assert.match(x.json.message, /integrationTokenId/);
      }
      const extra = await req('POST', mintPath(v.id, env.c.seed.integrations.SmartCar!), aliceToken, { signature: '0x00', owner: 'me' });
      assert.equal(extra.status, 400);
      const badSig = await req('POST', mintPath(v.id, env.c.seed.integrations.SmartCar!), aliceToken, { signature: '0x00' as Hex });
      assert.equal(badSig.status, 400);
      assert.match(badSig.json.message, /signature/);
    });
  });
});
