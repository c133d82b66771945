// Vehicle minting end to end: the real app over HTTP, a real anvil with the registry, the relayer
// and the indexer running in-process. Wallet signatures are made the way a client does it
// (the JSON payload converted as in ../shared/acceptance/client.mjs), including a contract wallet.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { getAddress, keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { erc1271WalletAbi, erc1271WalletBytecode, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { createChainContext } from '../../src/chain/context.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { signTyped, startChainApp, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';
import { withLowV, type ChainFixture } from '../chain/helpers.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`mint e2e ${label}`)));

describe('vehicle mint end to end', () => {
  let app: ChainApp;
  let c: ChainFixture;
  let t: TestApp;
  let clockOffsetMs = 0;
  const alice = key('alice');
  const bob = key('bob');
  const carol = key('carol (signs for the contract wallet)');
  let aliceToken: string;
  let bobToken: string;

  before(async () => {
    app = await startChainApp({ deps: { now: () => new Date(Date.now() + clockOffsetMs) } });
    ({ c, t } = app);
    aliceToken = await t.token('alice', alice.address);
    bobToken = await t.token('bob', bob.address);
  });
  after(() => app?.close());

  async function register(token: string, deviceDefinitionId = 'ford_bronco_2021'): Promise<string> {
    const r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId, countryCode: 'USA' } });
    assert.equal(r.status, 201, r.text);
    return r.json.userDevice.id as string;
  }

  const mintPath = (id: string) => `/v1/user/devices/${id}/commands/mint`;

  async function myVehicle(token: string, id: string) {
    const r = await t.request('GET', '/v1/user/devices/me', { token });
    assert.equal(r.status, 200, r.text);
    return (r.json.userDevices as { id: string; nft: any; vinConfirmed: boolean }[]).find((d) => d.id === id);
  }

  const minted = (token: string, id: string) =>
    until(`vehicle ${id} minted`, async () => {
      const d = await myVehicle(token, id);
      assert.notEqual(d?.nft?.status, 'Failed', `mint failed: ${JSON.stringify(d?.nft)}`);
      return d?.nft?.status === 'Confirmed' && d.nft.tokenId !== null ? d : undefined;
    });

  let aliceVehicle: { id: string; tokenId: bigint };

  it('serves the EIP-712 payload for the caller, with the make minted on first use', async () => {
    const id = await register(aliceToken);
    const r = await t.request('GET', mintPath(id), { token: aliceToken });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.primaryType, 'MintVehicleWithDeviceDefinitionSign');
    assert.deepEqual(r.json.domain, { name: 'DIMO', version: '1', chainId: c.chainId, verifyingContract: getAddress(c.deployment.registry) });
    const ford = (await c.read('getManufacturerIdByName', ['Ford'])) as bigint;
    assert.ok(ford > 0n, 'Ford was minted as a manufacturer node');
    assert.deepEqual(r.json.message, {
      manufacturerNode: ford.toString(),
      owner: alice.address,
      deviceDefinitionId: 'ford_bronco_2021',
      attributes: ['Make', 'Model', 'Year'],
      infos: ['Ford', 'Bronco', '2021'],
    });
    assert.deepEqual(Object.keys(r.json.types).sort(), ['EIP712Domain', 'MintVehicleWithDeviceDefinitionSign']);
  });

  it('answers POST without a signature (the SDK forms) with the same payload as GET', async () => {
    const id = await register(aliceToken);
    const get = await t.request('GET', mintPath(id), { token: aliceToken });
    for (const body of [undefined, {}, { mintRequest: {} }, '']) {
      const r = await t.request('POST', mintPath(id), { token: aliceToken, body, headers: body === '' ? { 'content-type': 'application/json' } : {} });
      assert.equal(r.status, 200, `${JSON.stringify(body)}: ${r.text}`);
      assert.deepEqual(r.json, get.json);
    }
  });

  it('refuses bad signatures with a 400 that says what is wrong', async () => {
    const id = await register(aliceToken);
    const payload = (await t.request('GET', mintPath(id), { token: aliceToken })).json as Payload;
    const stranger = key('stranger');

    let r = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: await signTyped(stranger, payload) } });
    assert.equal(r.status, 400);
    assert.match(r.json.message, new RegExp(`does not match the vehicle owner ${alice.address}.*signed by ${stranger.address}`));

    const good = await signTyped(alice, payload);
    r = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: good.slice(0, -2) } });
    assert.equal(r.status, 400);
    assert.match(r.json.message, /signature must be 65 bytes long, got 64/);

    r = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: '0xzz' } });
    assert.equal(r.status, 400);

    // Signed for another chain, or another registry: a valid signature, but not of this payload.
    for (const other of [{ chainId: 1 }, { verifyingContract: '0x0000000000000000000000000000000000000001' }]) {
      r = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: await signTyped(alice, payload, other) } });
      assert.equal(r.status, 400, JSON.stringify(other));
      assert.match(r.json.message, /does not match the vehicle owner/);
    }

    r = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: good, imageData: 'aGVsbG8=' } });
    assert.equal(r.status, 400, 'imageData must be a PNG');
    assert.match(r.json.message, /imageData is not a PNG/);
  });

  it("answers 404 for another user's vehicle and 409 for a caller without an address", async () => {
    const id = await register(aliceToken);
    assert.equal((await t.request('GET', mintPath(id), { token: bobToken })).status, 404);
    assert.equal((await t.request('POST', mintPath(id), { token: bobToken, body: { signature: `0x${'11'.repeat(65)}` } })).status, 404);
    assert.equal((await t.request('GET', mintPath('2ZZZZZZZZZZZZZZZZZZZZZZZZZZ'), { token: aliceToken })).status, 404);
    assert.equal((await t.request('GET', mintPath('not-a-ksuid'), { token: aliceToken })).status, 400);

    const noAddress = await t.token('dora');
    const doraId = await register(noAddress);
    const r = await t.request('GET', mintPath(doraId), { token: noAddress });
    assert.equal(r.status, 409);
    assert.match(r.json.message, /Your account has no Ethereum address/);
  });

  it('mints with a wallet signature (v as 0/1): 202, 409 while in flight, then Confirmed with token id and owner', async () => {
    const id = await register(aliceToken);
    const payload = (await t.request('GET', mintPath(id), { token: aliceToken })).json as Payload;
    const sig = withLowV(await signTyped(alice, payload));
    const r = await t.request('POST', mintPath(id), { token: aliceToken, body: { mintRequest: { userSignature: sig } } });
    assert.equal(r.status, 202, r.text);
    assert.match(r.json.requestId, /^[0-9A-Za-z]{27}$/);
    assert.ok(['Unsubmitted', 'Submitted', 'Mined', 'Confirmed'].includes(r.json.status));

    const again = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: sig } });
    const get = await t.request('GET', mintPath(id), { token: aliceToken });
    assert.equal(again.status, 409, again.text);
    assert.equal(get.status, 409, get.text);

    const d = await minted(aliceToken, id);
    const tokenId = BigInt(d.nft.tokenId);
    assert.equal(d.nft.ownerAddress, alice.address);
    assert.equal(d.nft.tokenUri, `${t.config.publicBaseUrl}/v1/vehicle/${tokenId}`);
    assert.match(d.nft.txHash, /^0x[0-9a-f]{64}$/);
    assert.equal(d.vinConfirmed, true);
    const owner = await c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName: 'ownerOf', args: [tokenId] });
    assert.equal(owner, alice.address);

    const after = await t.request('GET', mintPath(id), { token: aliceToken });
    assert.equal(after.status, 409);
    assert.match(after.json.message, /already minted with token id/);
    aliceVehicle = { id, tokenId };
  });

  it('a Failed mint request frees the vehicle for a new attempt', async () => {
    const id = await register(aliceToken);
    const payload = (await t.request('GET', mintPath(id), { token: aliceToken })).json as Payload;
    const sig = await signTyped(alice, payload);
    await app.relayer.stop();
    try {
      const first = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: sig } });
      assert.equal(first.status, 202);
      await t.database.db.update(metaTransactionRequests).set({ status: 'Failed', failureReason: 'test' }).where(eq(metaTransactionRequests.id, first.json.requestId));
      const second = await t.request('POST', mintPath(id), { token: aliceToken, body: { signature: sig } });
      assert.equal(second.status, 202, second.text);
      assert.notEqual(second.json.requestId, first.json.requestId);
    } finally {
      app.relayer.start();
    }
    await minted(aliceToken, id);
  });

  it('mints to an ERC-1271 contract wallet whose signer signed the payload', async () => {
    const hash = await c.wallet(c.accounts.carol).deployContract({
      abi: erc1271WalletAbi,
      bytecode: erc1271WalletBytecode,
      args: [carol.address],
      account: c.accounts.carol,
      chain: undefined,
    });
    const wallet = getAddress((await c.publicClient.waitForTransactionReceipt({ hash })).contractAddress!);
    const walletToken = await t.token('wallet-user', wallet);
    const id = await register(walletToken, 'toyota_camry_2020');
    const payload = (await t.request('GET', mintPath(id), { token: walletToken })).json as Payload;
    assert.equal(payload.message.owner, wallet);
    const stranger = await t.request('POST', mintPath(id), { token: walletToken, body: { signature: await signTyped(key('not the signer'), payload) } });
    assert.equal(stranger.status, 400);
    assert.match(stranger.json.message, new RegExp(`does not match the vehicle owner ${wallet}`));

    const r = await t.request('POST', mintPath(id), { token: walletToken, body: { signature: await signTyped(carol, payload) } });
    assert.equal(r.status, 202, r.text);
    const d = await minted(walletToken, id);
    assert.equal(d.nft.ownerAddress, wallet);
  });

  it("a privilege the owner's wallet grants on chain shares the vehicle until it expires", async () => {
    assert.ok(aliceVehicle, 'needs the minted vehicle from the mint test');
    const shared = async () => {
      const r = await t.request('GET', '/v1/user/devices/shared', { token: bobToken });
      assert.equal(r.status, 200, r.text);
      return r.json.sharedDevices as { id: string; privilegedUsers: { address: string; privileges: { id: number }[] }[] }[];
    };
    assert.deepEqual(await shared(), []);

    const expires = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const hash = await c.wallet(c.accounts.deployer).sendTransaction({ to: alice.address, value: 10n ** 17n, account: c.accounts.deployer, chain: undefined });
    await c.publicClient.waitForTransactionReceipt({ hash });
    const grant = await c.wallet(alice).writeContract({
      address: c.deployment.vehicleId,
      abi: nodeNftAbi,
      functionName: 'setPrivilege',
      args: [aliceVehicle.tokenId, 1n, bob.address, expires],
      account: alice,
      chain: undefined,
    });
    await c.publicClient.waitForTransactionReceipt({ hash: grant });

    const list = await until('shared vehicle', async () => {
      const s = await shared();
      return s.length > 0 ? s : undefined;
    });
    assert.deepEqual(list.map((d) => d.id), [aliceVehicle.id]);
    assert.equal(list[0]?.privilegedUsers[0]?.address, bob.address);

    // Alice does not see her own vehicle as shared; bob's /me does not list it.
    assert.deepEqual((await t.request('GET', '/v1/user/devices/shared', { token: aliceToken })).json.sharedDevices, []);
    assert.equal((await myVehicle(bobToken, aliceVehicle.id)), undefined);

    clockOffsetMs = 2 * 3600 * 1000; // the server's clock passes the expiry
    try {
      assert.deepEqual(await shared(), []);
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('vehicle mint with the chain unreachable', () => {
  it('answers 503 quickly instead of hanging', async () => {
    const ctx = createChainContext({
      rpcUrl: 'http://127.0.0.1:9',
      chainId: 31337,
      deployment: {
        registry: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        manufacturerId: '0x0000000000000000000000000000000000000001',
        integrationId: '0x0000000000000000000000000000000000000002',
        vehicleId: '0x0000000000000000000000000000000000000003',
        aftermarketDeviceId: '0x0000000000000000000000000000000000000004',
        syntheticDeviceId: '0x0000000000000000000000000000000000000005',
        deployBlock: 1n,
      },
      relayerAccount: key('relayer'),
      confirmations: 0,
    });
    const t = await createTestApp({ deps: { chain: ctx } });
    try {
      const token = await t.token('erin', key('erin').address);
      const r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
      const id = r.json.userDevice.id as string;
      const get = await t.request('GET', `/v1/user/devices/${id}/commands/mint`, { token });
      assert.equal(get.status, 503, get.text);
      assert.equal(get.json.error, 'SERVICE_UNAVAILABLE');
    } finally {
      await t.close();
    }
  });
});
