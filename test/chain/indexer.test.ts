// The indexer against a real anvil and a real database: every event type, idempotent re-reads,
// reorgs (anvil_reorg) and changes made directly on chain by wallets.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { keccak256, toBytes, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { nodeNftAbi } from '../../src/chain/abi/index.ts';
import type { ChainContext } from '../../src/chain/context.ts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import { ChainDivergedError, createIndexer, type Indexer } from '../../src/chain/indexer.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import {
  aftermarketDevices,
  chainBlocks,
  chainCursor,
  integrations,
  manufacturers,
  metaTransactionRequests,
  nftPrivileges,
  syntheticDevices,
  userDevices,
} from '../../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventsOf, startIndexedChain, type ChainFixture } from './helpers.ts';

const ATTRS = [
  { attribute: 'Make', info: 'Ford' },
  { attribute: 'Model', info: 'Bronco' },
  { attribute: 'Year', info: '2021' },
];
const DD = 'ford_bronco_2021';
const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`indexer test ${label}`)));
const lower = (a: string) => a.toLowerCase();

describe('indexer', () => {
  let c: ChainFixture;
  let ctx: ChainContext;
  let db: TestDatabase;
  let snapshot: Hex;
  let ford: bigint;
  const indexers: Indexer[] = [];

  before(async () => {
    ({ chain: c, ctx, ford } = await startIndexedChain());
  });
  after(async () => {
    await c?.stop();
  });
  beforeEach(async () => {
    snapshot = await c.testClient.snapshot();
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const ix of indexers.splice(0)) await ix.stop();
    await db.destroy();
    await c.testClient.revert({ id: snapshot });
  });

  function indexer(opts: { confirmations?: number; batchBlocks?: number; reorgWindowBlocks?: number } = {}): Indexer {
    const ix = createIndexer({
      database: db,
      chain: { ...ctx, confirmations: opts.confirmations ?? 0 },
      batchBlocks: opts.batchBlocks,
      reorgWindowBlocks: opts.reorgWindowBlocks,
      pollIntervalMs: 20,
      publicBaseUrl: 'http://localhost:8080',
    });
    indexers.push(ix);
    return ix;
  }

  async function sync(ix: Indexer) {
    for (let i = 0; i < 1000; i++) {
      const r = await ix.tick();
      if (r.caughtUp) return r;
    }
    throw new Error('indexer did not catch up');
  }

  async function mintVehicle(owner: LocalAccount | Address, signer: LocalAccount = owner as LocalAccount) {
    const ownerAddress = typeof owner === 'string' ? owner : owner.address;
    const message = { manufacturerNode: ford, owner: ownerAddress, deviceDefinitionId: DD, attributes: ATTRS.map((a) => a.attribute), infos: ATTRS.map((a) => a.info) };
    const sig = await c.sign(signer, 'MintVehicleWithDeviceDefinitionSign', message);
    const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, ownerAddress, DD, ATTRS, sig]);
    return { tokenId: eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint, hash: receipt.transactionHash };
  }

  async function mintDevices(serials: string[]) {
    const devices = serials.map((serial) => ({ address: key(`device ${serial}`).address, serial }));
    return mintAftermarketDevices({
      publicClient: c.publicClient,
      walletClient: c.wallet(c.accounts.manufacturer),
      registry: c.deployment.registry,
      manufacturerNode: c.seed.manufacturers.AutoPi!,
      devices,
    });
  }

  async function claim(tokenId: bigint, owner: LocalAccount, deviceKey: LocalAccount) {
    const message = { aftermarketDeviceNode: tokenId, owner: owner.address };
    await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [
      tokenId,
      owner.address,
      await c.sign(owner, 'ClaimAftermarketDeviceSign', message),
      await c.sign(deviceKey, 'ClaimAftermarketDeviceSign', message),
    ]);
  }

  async function nftWrite(account: LocalAccount, nft: Address, functionName: 'setPrivilege' | 'transferFrom', args: readonly unknown[]) {
    const hash = await c.wallet(account).writeContract({ address: nft, abi: nodeNftAbi, functionName, args: args as never, account, chain: undefined });
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    return receipt;
  }

  async function registeredVehicle(userId: string) {
    const id = newKsuid();
    await db.db.insert(userDevices).values({
      id,
      userId,
      definitionId: DD,
      definition: { id: DD, name: '2021 Ford Bronco', make: { id: 'ford', name: 'Ford' }, model: 'Bronco', year: 2021, attributes: [], verified: true },
      countryCode: 'USA',
    });
    return id;
  }

  async function mintRequest(userDeviceId: string, hash: string | null) {
    const id = newKsuid();
    await db.db.insert(metaTransactionRequests).values({
      id,
      userId: 'user-1',
      kind: 'MintVehicle',
      status: hash ? 'Submitted' : 'Unsubmitted',
      toAddress: lower(c.deployment.registry),
      data: '0x',
      hash,
      subject: { userDeviceId },
    });
    await db.db.update(userDevices).set({ mintRequestId: id }).where(eq(userDevices.id, userDeviceId));
    return id;
  }

  const vehicleRow = async (id: string) => (await db.db.select().from(userDevices).where(eq(userDevices.id, id)))[0];
  const deviceRow = async (tokenId: bigint) => (await db.db.select().from(aftermarketDevices).where(eq(aftermarketDevices.tokenId, tokenId)))[0];
  const privilegeRows = async () => db.db.select().from(nftPrivileges).orderBy(nftPrivileges.tokenId, nftPrivileges.privilege, nftPrivileges.userAddress);
  const reorg = (depth: number) => c.testClient.request({ method: 'anvil_reorg' as never, params: [depth, []] as never });

  async function dump() {
    return {
      devices: await db.db.select().from(aftermarketDevices).orderBy(aftermarketDevices.tokenId),
      vehicles: await db.db.select().from(userDevices).orderBy(userDevices.id),
      privileges: await privilegeRows(),
      synthetics: await db.db.select().from(syntheticDevices).orderBy(syntheticDevices.id),
      manufacturers: await db.db.select().from(manufacturers).orderBy(manufacturers.tokenId),
      integrations: await db.db.select().from(integrations).orderBy(integrations.tokenId),
    };
  }

  it('records the manufacturers and integrations minted at deployment, names and owners included', async () => {
    const r = await sync(indexer());
    assert.equal(r.toBlock, await c.publicClient.getBlockNumber());
    const rows = await db.db.select().from(manufacturers).orderBy(manufacturers.tokenId);
    assert.deepEqual(
      rows.map((m) => [m.tokenId, m.name, m.ownerAddress]),
      [
        [1n, 'AutoPi', lower(c.accounts.manufacturer.address)],
        [2n, 'Macaron', lower(c.accounts.manufacturer.address)],
        [ford, 'Ford', lower(c.accounts.deployer.address)],
      ],
    );
    const ints = await db.db.select().from(integrations).orderBy(integrations.tokenId);
    assert.deepEqual(ints.map((i) => [i.tokenId, i.name]), [[1n, 'SmartCar'], [2n, 'Tesla']]);
    const [cursor] = await db.db.select().from(chainCursor);
    assert.equal(cursor?.blockNumber, r.toBlock);
    assert.equal(cursor?.blockHash, (await c.publicClient.getBlock({ blockNumber: r.toBlock })).hash);
  });

  it('records minted aftermarket devices: lower-case address, manufacturer, normalised serial', async () => {
    const uuid = 'A1B2C3D4-0000-4000-8000-00000000ABCD';
    const [a, b] = await mintDevices([uuid, '  SN-Case-Kept ']);
    await sync(indexer());
    const rowA = await deviceRow(a!.tokenId);
    assert.equal(rowA?.address, lower(a!.address));
    assert.equal(rowA?.serial, uuid.toLowerCase());
    assert.equal(rowA?.manufacturerTokenId, c.seed.manufacturers.AutoPi);
    assert.equal(rowA?.manufacturerName, 'AutoPi');
    assert.equal(rowA?.ownerAddress, null, 'the manufacturer holds an unclaimed device; it has no owner yet');
    assert.equal((await deviceRow(b!.tokenId))?.serial, 'SN-Case-Kept');
  });

  it('does not give a serial already held by another device to a second one', async () => {
    const [first] = await mintDevices(['DUP-1']);
    await sync(indexer());
    const [second] = await mintDevices([' DUP-1']);
    await sync(indexer());
    assert.equal((await deviceRow(first!.tokenId))?.serial, 'DUP-1');
    const row = await deviceRow(second!.tokenId);
    assert.ok(row, 'the device row exists');
    assert.equal(row.serial, null);
  });

  it('follows a device through claim, pair and unpair', async () => {
    const [d] = await mintDevices(['CLAIM-1']);
    const deviceKey = key('device CLAIM-1');
    const { tokenId: vehicle } = await mintVehicle(c.accounts.alice);
    const ix = indexer();
    await claim(d!.tokenId, c.accounts.alice, deviceKey);
    await sync(ix);
    assert.equal((await deviceRow(d!.tokenId))?.ownerAddress, lower(c.accounts.alice.address));

    const pair = { aftermarketDeviceNode: d!.tokenId, vehicleNode: vehicle };
    await c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [d!.tokenId, vehicle, await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pair)]);
    await sync(ix);
    assert.equal((await deviceRow(d!.tokenId))?.vehicleTokenId, vehicle);

    await c.send(c.accounts.relayer, 'unpairAftermarketDeviceSign', [d!.tokenId, vehicle, await c.sign(c.accounts.alice, 'UnPairAftermarketDeviceSign', pair)]);
    await sync(ix);
    assert.equal((await deviceRow(d!.tokenId))?.vehicleTokenId, null);
  });

  it('a claimed device transferred by its owner changes owner; unclaim clears it', async () => {
    const [d] = await mintDevices(['MOVE-1']);
    await claim(d!.tokenId, c.accounts.alice, key('device MOVE-1'));
    const ix = indexer();
    await sync(ix);
    await db.db.update(aftermarketDevices).set({ userId: 'alice-login' }).where(eq(aftermarketDevices.tokenId, d!.tokenId));
    await nftWrite(c.accounts.alice, c.deployment.aftermarketDeviceId, 'transferFrom', [c.accounts.alice.address, c.accounts.bob.address, d!.tokenId]);
    await sync(ix);
    let row = await deviceRow(d!.tokenId);
    assert.equal(row?.ownerAddress, lower(c.accounts.bob.address));
    assert.equal(row?.userId, null, "the previous owner's login no longer holds the device");

    await c.send(c.accounts.relayer, 'unclaimAftermarketDeviceNode', [[d!.tokenId]]);
    await sync(ix);
    row = await deviceRow(d!.tokenId);
    assert.equal(row?.ownerAddress, null);
  });

  it("gives a requested vehicle its token id and owner, matched to the request by the mint's transaction hash", async () => {
    const id = await registeredVehicle('user-1');
    const { tokenId, hash } = await mintVehicle(c.accounts.alice);
    await mintRequest(id, hash);
    await sync(indexer());
    const row = await vehicleRow(id);
    assert.equal(row?.tokenId, tokenId);
    assert.equal(row?.ownerAddress, lower(c.accounts.alice.address));
    assert.equal(row?.vinConfirmed, true);
    assert.equal(row?.userId, 'user-1', 'the registering user keeps the vehicle');
    assert.equal((await db.db.select().from(userDevices)).length, 1, 'no second record');
  });

  it('creates a record, owned by the wallet, for a vehicle minted outside the service', async () => {
    const { tokenId } = await mintVehicle(c.accounts.bob);
    await sync(indexer());
    const rows = await db.db.select().from(userDevices);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.tokenId, tokenId);
    assert.equal(row.userId, `address:${lower(c.accounts.bob.address)}`);
    assert.equal(row.ownerAddress, lower(c.accounts.bob.address));
    assert.equal(row.definitionId, DD);
    assert.deepEqual(row.definition.make, { id: 'ford', name: 'Ford' });
    assert.equal(row.definition.model, 'Bronco');
    assert.equal(row.definition.year, 2021);
    assert.equal(row.definition.name, '2021 Ford Bronco');
    assert.equal(row.vinConfirmed, true);
  });

  it('records privileges granted and revoked directly on chain by the owner wallet', async () => {
    const { tokenId } = await mintVehicle(c.accounts.alice);
    const ix = indexer();
    const soon = BigInt(Math.floor(Date.now() / 1000) + 3600);
    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.bob.address, soon]);
    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 4n, c.accounts.bob.address, 2n ** 256n - 1n]);
    await sync(ix);
    let rows = await privilegeRows();
    assert.deepEqual(
      rows.map((p) => [p.tokenId, p.privilege, p.userAddress, p.expiry.toISOString()]),
      [
        [tokenId, 1, lower(c.accounts.bob.address), new Date(Number(soon) * 1000).toISOString()],
        [tokenId, 4, lower(c.accounts.bob.address), '9999-12-31T23:59:59.000Z'],
      ],
    );
    const block = await c.publicClient.getBlock();
    assert.equal(rows[1]?.updatedAt.getTime(), Number(block.timestamp) * 1000, 'updatedAt is the block time');

    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.bob.address, 1n]);
    await sync(ix);
    rows = await privilegeRows();
    assert.equal(rows[0]?.expiry.getTime(), 1000, 'revocation is an expiry in the past');
  });

  it('records privileges the relayer granted and revoked with the owner’s SetPrivilegesSign signature', async () => {
    const { tokenId } = await mintVehicle(c.accounts.alice);
    const ix = indexer();
    const bob = c.accounts.bob.address;
    const expires = BigInt(Math.floor(Date.now() / 1000) + 86_400);
    const relaySigned = async (privIds: bigint[], until: bigint) => {
      const nonce = await c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName: 'privilegeNonce', args: [tokenId, bob] });
      const grant = { tokenId, privIds, user: bob, expires: until, nonce };
      const signature = await c.sign(c.accounts.alice, 'SetPrivilegesSign', grant);
      await c.send(c.accounts.relayer, 'setPrivilegesSign', [tokenId, privIds, bob, until, nonce, signature]);
    };

    await relaySigned([1n, 3n], expires);
    await sync(ix);
    const granted = new Date(Number(expires) * 1000).toISOString();
    assert.deepEqual(
      (await privilegeRows()).map((p) => [p.tokenId, p.privilege, p.userAddress, p.expiry.toISOString()]),
      [
        [tokenId, 1, lower(bob), granted],
        [tokenId, 3, lower(bob), granted],
      ],
    );

    await relaySigned([1n, 3n], 0n);
    await sync(ix);
    assert.deepEqual(
      (await privilegeRows()).map((p) => [p.privilege, p.expiry.getTime()]),
      [
        [1, 0],
        [3, 0],
      ],
      'a signed revocation is an expiry at the epoch',
    );
  });

  it('a transfer made directly on chain moves the vehicle to the new owner and clears its privileges', async () => {
    const id = await registeredVehicle('user-1');
    const { tokenId, hash } = await mintVehicle(c.accounts.alice);
    await mintRequest(id, hash);
    const ix = indexer();
    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.carol.address, 2n ** 40n]);
    await sync(ix);
    assert.equal((await privilegeRows()).length, 1);

    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'transferFrom', [c.accounts.alice.address, c.accounts.bob.address, tokenId]);
    await sync(ix);
    const row = await vehicleRow(id);
    assert.equal(row?.ownerAddress, lower(c.accounts.bob.address));
    assert.equal(row?.userId, `address:${lower(c.accounts.bob.address)}`, 'the seller loses the record');
    assert.equal(row?.tokenId, tokenId);
    assert.deepEqual(await privilegeRows(), []);
  });

  it('records a synthetic device minted for a vehicle and removes it when burned', async () => {
    const id = await registeredVehicle('user-1');
    const { tokenId: vehicle, hash } = await mintVehicle(c.accounts.alice);
    await mintRequest(id, hash);
    const sdKey = key('synthetic 1');
    const integrationNode = c.seed.integrations.SmartCar!;
    const message = { integrationNode, vehicleNode: vehicle };
    const receipt = await c.send(c.accounts.relayer, 'mintSyntheticDeviceSign', [
      {
        integrationNode,
        vehicleNode: vehicle,
        syntheticDeviceSig: await c.sign(sdKey, 'MintSyntheticDeviceSign', message),
        vehicleOwnerSig: await c.sign(c.accounts.alice, 'MintSyntheticDeviceSign', message),
        syntheticDeviceAddr: sdKey.address,
        attrInfoPairs: [],
      },
    ]);
    const sdToken = eventsOf(receipt, 'SyntheticDeviceNodeMinted')[0]?.args.syntheticDeviceNode as bigint;
    const ix = indexer();
    await sync(ix);
    const [sd] = await db.db.select().from(syntheticDevices);
    assert.equal(sd?.tokenId, sdToken);
    assert.equal(sd?.address, lower(sdKey.address));
    assert.equal(sd?.vehicleTokenId, vehicle);
    assert.equal(sd?.integrationTokenId, integrationNode);
    assert.equal(sd?.userDeviceId, id);
    assert.equal(sd?.walletChildIndex, -1, 'minted elsewhere: no wallet index of ours');

    const burn = { vehicleNode: vehicle, syntheticDeviceNode: sdToken };
    await c.send(c.accounts.relayer, 'burnSyntheticDeviceSign', [vehicle, sdToken, await c.sign(c.accounts.alice, 'BurnSyntheticDeviceSign', burn)]);
    await sync(ix);
    assert.deepEqual(await db.db.select().from(syntheticDevices), []);
  });

  it('a burned vehicle loses its token id; a record nobody registered goes with it', async () => {
    const id = await registeredVehicle('user-1');
    const mine = await mintVehicle(c.accounts.alice);
    await mintRequest(id, mine.hash);
    const foreign = await mintVehicle(c.accounts.bob);
    const ix = indexer();
    await sync(ix);
    for (const [owner, tokenId] of [[c.accounts.alice, mine.tokenId], [c.accounts.bob, foreign.tokenId]] as const) {
      await c.send(c.accounts.relayer, 'burnVehicleSign', [tokenId, await c.sign(owner, 'BurnVehicleSign', { vehicleNode: tokenId })]);
    }
    await sync(ix);
    const rows = await db.db.select().from(userDevices);
    assert.equal(rows.length, 1, 'the foreign record is deleted');
    assert.equal(rows[0]?.id, id);
    assert.equal(rows[0]?.tokenId, null);
    assert.equal(rows[0]?.ownerAddress, null);
    assert.equal(rows[0]?.mintRequestId, null, 'free to mint again');
  });

  it('reading a range again changes nothing', async () => {
    const id = await registeredVehicle('user-1');
    const { tokenId, hash } = await mintVehicle(c.accounts.alice);
    await mintRequest(id, hash);
    await mintVehicle(c.accounts.bob);
    const [d] = await mintDevices(['AGAIN-1']);
    await claim(d!.tokenId, c.accounts.alice, key('device AGAIN-1'));
    await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 3n, c.accounts.carol.address, 2n ** 40n]);
    const ix = indexer({ batchBlocks: 4 });
    await sync(ix);
    const first = await dump();

    // Back to the start: every block is read and applied a second time.
    const [start] = await db.db.select().from(chainBlocks).orderBy(chainBlocks.number).limit(1);
    await db.db.delete(chainBlocks);
    await db.db.delete(chainCursor);
    assert.ok(start);
    const again = await sync(indexer({ batchBlocks: 7 }));
    assert.ok(again.toBlock > start.number);
    assert.deepEqual(await dump(), first);
  });

  it('waits for blocks to reach the confirmation depth (the head being depth 1)', async () => {
    const ix = indexer({ confirmations: 3 });
    const first = await sync(ix);
    const head = await c.publicClient.getBlockNumber();
    assert.equal(first.toBlock, head - 2n);
    await mintVehicle(c.accounts.bob);
    await c.testClient.mine({ blocks: 1 });
    await sync(ix);
    assert.deepEqual(await db.db.select().from(userDevices), [], 'the mint is at depth 2 of 3');
    await c.testClient.mine({ blocks: 1 });
    await sync(ix);
    assert.equal((await db.db.select().from(userDevices)).length, 1);
  });

  it('reads the head itself with 0 or 1 confirmations (final once mined)', async () => {
    for (const confirmations of [0, 1]) {
      const r = await sync(indexer({ confirmations }));
      assert.equal(r.toBlock, await c.publicClient.getBlockNumber());
    }
  });

  describe('reorgs', () => {
    it('a privilege grant the reorg dropped is removed', async () => {
      const { tokenId } = await mintVehicle(c.accounts.alice);
      const ix = indexer();
      await sync(ix);
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.bob.address, 2n ** 40n]);
      await sync(ix);
      assert.equal((await privilegeRows()).length, 1);

      await reorg(1);
      const r = await ix.tick();
      assert.ok(r.rewoundTo !== undefined, 'the tick rewinds');
      await sync(ix);
      assert.deepEqual(await privilegeRows(), []);
    });

    it('a revocation the reorg dropped restores the grant as it was', async () => {
      const { tokenId } = await mintVehicle(c.accounts.alice);
      const ix = indexer();
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.bob.address, 2n ** 40n]);
      await sync(ix);
      const granted = await privilegeRows();
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [tokenId, 1n, c.accounts.bob.address, 0n]);
      await sync(ix);
      await reorg(1);
      await sync(ix);
      assert.deepEqual(await privilegeRows(), granted);
    });

    it('a vehicle mint the reorg dropped clears the token id; the mint sent again applies again', async () => {
      const id = await registeredVehicle('user-1');
      const ix = indexer();
      await sync(ix);
      const first = await mintVehicle(c.accounts.alice);
      const requestId = await mintRequest(id, first.hash);
      await sync(ix);
      assert.equal((await vehicleRow(id))?.tokenId, first.tokenId);

      await reorg(1);
      await sync(ix);
      let row = await vehicleRow(id);
      assert.equal(row?.tokenId, null);
      assert.equal(row?.ownerAddress, null);
      assert.equal(row?.vinConfirmed, false);
      assert.equal(row?.mintRequestId, requestId, 'the request link is kept: the relayer decides what happens to it');

      const second = await mintVehicle(c.accounts.alice);
      await db.db.update(metaTransactionRequests).set({ hash: second.hash }).where(eq(metaTransactionRequests.id, requestId));
      await sync(ix);
      row = await vehicleRow(id);
      assert.equal(row?.tokenId, second.tokenId);
      assert.equal(row?.ownerAddress, lower(c.accounts.alice.address));
    });

    it('a vehicle minted elsewhere that the reorg dropped disappears', async () => {
      const ix = indexer();
      await sync(ix);
      await mintVehicle(c.accounts.bob);
      await sync(ix);
      assert.equal((await db.db.select().from(userDevices)).length, 1);
      await reorg(1);
      await sync(ix);
      assert.deepEqual(await db.db.select().from(userDevices), []);
    });

    it('a pairing the reorg dropped is unlinked; a deeper reorg across several batches undoes them all', async () => {
      const [d] = await mintDevices(['REORG-PAIR']);
      const { tokenId: vehicle } = await mintVehicle(c.accounts.alice);
      await claim(d!.tokenId, c.accounts.alice, key('device REORG-PAIR'));
      const ix = indexer();
      await sync(ix);
      const pair = { aftermarketDeviceNode: d!.tokenId, vehicleNode: vehicle };
      await c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [d!.tokenId, vehicle, await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pair)]);
      await sync(ix);
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [vehicle, 1n, c.accounts.bob.address, 2n ** 40n]);
      await sync(ix);
      assert.equal((await deviceRow(d!.tokenId))?.vehicleTokenId, vehicle);

      await reorg(2);
      await sync(ix);
      assert.equal((await deviceRow(d!.tokenId))?.vehicleTokenId, null);
      assert.deepEqual(await privilegeRows(), []);
      assert.equal((await deviceRow(d!.tokenId))?.ownerAddress, lower(c.accounts.alice.address), 'the claim before the fork stays');
    });

    it('a chain that no longer holds any indexed block is reported, not indexed', async () => {
      const ix = indexer();
      await sync(ix);
      await db.db.update(chainBlocks).set({ hash: `0x${'ab'.repeat(32)}` });
      await db.db.update(chainCursor).set({ blockHash: `0x${'ab'.repeat(32)}` });
      await assert.rejects(ix.tick(), (e: unknown) => e instanceof ChainDivergedError && /no longer contains block/.test(e.message));
    });
  });

  it('runs in the background and stops cleanly', async () => {
    const ix = indexer();
    ix.start();
    const { tokenId } = await mintVehicle(c.accounts.bob);
    for (let i = 0; i < 200; i++) {
      const [row] = await db.db.select().from(userDevices).where(eq(userDevices.tokenId, tokenId));
      if (row) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await ix.stop();
    assert.equal((await db.db.select().from(userDevices)).length, 1);
    assert.equal(ix.lastError(), null);
  });
});
