// Chain events from the indexer on a real anvil and a real database: emitted when a batch is
// applied, once, and reversed when a reorg undoes what they announced.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { asc } from 'drizzle-orm';
import { keccak256, toBytes, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { nodeNftAbi } from '../../src/chain/abi/index.ts';
import type { ChainContext } from '../../src/chain/context.ts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import { createIndexer, type Indexer } from '../../src/chain/indexer.ts';
import { chainBlocks, chainCursor, events, userDevices } from '../../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { eventsOf, startIndexedChain, type ChainFixture } from '../chain/helpers.ts';

const ATTRS = [
  { attribute: 'Make', info: 'Ford' },
  { attribute: 'Model', info: 'Bronco' },
  { attribute: 'Year', info: '2021' },
];
const DD = 'ford_bronco_2021';
const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`chain events test ${label}`)));

describe('chain events from the indexer', () => {
  let c: ChainFixture;
  let ctx: ChainContext;
  let db: TestDatabase;
  let snapshot: Hex;
  let ford: bigint;

  before(async () => {
    ({ chain: c, ctx, ford } = await startIndexedChain());
  });
  after(async () => c?.stop());
  beforeEach(async () => {
    snapshot = await c.testClient.snapshot();
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.destroy();
    await c.testClient.revert({ id: snapshot });
  });

  const indexer = (): Indexer => createIndexer({ database: db, chain: ctx, pollIntervalMs: 20, publicBaseUrl: 'https://api.example' });
  async function sync(ix: Indexer) {
    for (let i = 0; i < 1000; i++) if ((await ix.tick()).caughtUp) return;
    throw new Error('indexer did not catch up');
  }
  const reorg = (depth: number) => c.testClient.request({ method: 'anvil_reorg' as never, params: [depth, []] as never });
  const emitted = async () =>
    (await db.db.select().from(events).orderBy(asc(events.seq))).map((e) => ({ type: e.type, userId: e.userId, vehicleTokenId: e.vehicleTokenId, audienceAddress: e.audienceAddress, data: e.data as Record<string, any> }));

  async function mintVehicle(owner: LocalAccount) {
    const message = { manufacturerNode: ford, owner: owner.address, deviceDefinitionId: DD, attributes: ATTRS.map((a) => a.attribute), infos: ATTRS.map((a) => a.info) };
    const sig = await c.sign(owner, 'MintVehicleWithDeviceDefinitionSign', message);
    const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, owner.address, DD, ATTRS, sig]);
    return eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint;
  }

  async function mintDevice(serial: string) {
    const [d] = await mintAftermarketDevices({
      publicClient: c.publicClient,
      walletClient: c.wallet(c.accounts.manufacturer),
      registry: c.deployment.registry,
      manufacturerNode: c.seed.manufacturers.AutoPi!,
      devices: [{ serial, address: key(`device ${serial}`).address }],
    });
    return { tokenId: d!.tokenId, key: key(`device ${serial}`) };
  }

  async function claim(d: { tokenId: bigint; key: LocalAccount }, owner: LocalAccount) {
    const message = { aftermarketDeviceNode: d.tokenId, owner: owner.address };
    await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [
      d.tokenId,
      owner.address,
      await c.sign(owner, 'ClaimAftermarketDeviceSign', message),
      await c.sign(d.key, 'ClaimAftermarketDeviceSign', message),
    ]);
  }

  async function setPrivilege(account: LocalAccount, nft: Address, args: readonly unknown[]) {
    const hash = await c.wallet(account).writeContract({ address: nft, abi: nodeNftAbi, functionName: 'setPrivilege', args: args as never, account, chain: undefined });
    await c.publicClient.waitForTransactionReceipt({ hash });
  }

  it('announces a claim, a pairing and a share once each, owned by the vehicle’s user, and a re-read announces nothing', async () => {
    const alice = c.accounts.alice;
    const d = await mintDevice('EVENTS-1');
    const vehicle = await mintVehicle(alice);
    const ix = indexer();
    await sync(ix);
    // The vehicle was minted outside the service: its record belongs to the wallet.
    const [v] = await db.db.select().from(userDevices);
    const owner = `address:${alice.address.toLowerCase()}`;
    assert.deepEqual(
      (await emitted()).map((e) => [e.type, e.userId, e.vehicleTokenId]),
      [['vehicle.minted', owner, vehicle]],
    );

    await claim(d, alice);
    const pair = { aftermarketDeviceNode: d.tokenId, vehicleNode: vehicle };
    await c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [d.tokenId, vehicle, await c.sign(alice, 'PairAftermarketDeviceSign', pair)]);
    await setPrivilege(alice, c.deployment.vehicleId, [vehicle, 1n, c.accounts.bob.address, 2n ** 40n]);
    await sync(ix);

    const all = await emitted();
    assert.deepEqual(
      all.map((e) => e.type),
      ['vehicle.minted', 'aftermarket_device.claimed', 'aftermarket_device.paired', 'vehicle.shared'],
    );
    const [, claimed, paired, shared] = all;
    assert.equal(claimed!.data.serial, 'EVENTS-1');
    assert.equal(claimed!.data.ownerAddress, alice.address);
    assert.equal(claimed!.userId, owner);
    assert.equal(paired!.data.userDeviceId, v!.id);
    assert.equal(paired!.vehicleTokenId, vehicle);
    assert.deepEqual(shared!.data.privileges.map((p: { id: number; name: string }) => [p.id, p.name]), [[1, 'VEHICLE_NON_LOCATION_DATA']]);
    assert.equal(shared!.data.grantee, c.accounts.bob.address);
    assert.equal(shared!.audienceAddress, c.accounts.bob.address.toLowerCase(), 'the grantee hears of it whatever it holds later');
    assert.equal(shared!.data.userDeviceId, v!.id);
    // The vehicle's data is the /v1/user/devices/me item, token id as a number.
    assert.equal(all[0]!.data.nft.tokenId, Number(vehicle));
    assert.equal(all[0]!.data.imageUrl, `https://api.example/v1/vehicle/${vehicle}/image`);

    // The same blocks read again from the start change no row, so they announce nothing.
    await db.db.delete(chainCursor);
    await db.db.delete(chainBlocks);
    await sync(ix);
    assert.equal((await emitted()).length, 4);
  });

  it('a reorg that undoes a pairing and a share announces their reverse, marked as a reorg', async () => {
    const alice = c.accounts.alice;
    const d = await mintDevice('EVENTS-REORG');
    const vehicle = await mintVehicle(alice);
    await claim(d, alice);
    const ix = indexer();
    await sync(ix);
    const pair = { aftermarketDeviceNode: d.tokenId, vehicleNode: vehicle };
    await c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [d.tokenId, vehicle, await c.sign(alice, 'PairAftermarketDeviceSign', pair)]);
    await sync(ix);
    await setPrivilege(alice, c.deployment.vehicleId, [vehicle, 1n, c.accounts.bob.address, 2n ** 40n]);
    await sync(ix);
    const before = (await emitted()).length;

    await reorg(2);
    await sync(ix);
    const undone = (await emitted()).slice(before);
    assert.deepEqual(
      undone.map((e) => [e.type, e.data.reorg]),
      [
        ['vehicle.share_revoked', true],
        ['aftermarket_device.unpaired', true],
      ],
    );
    assert.equal(undone[0]!.audienceAddress, c.accounts.bob.address.toLowerCase(), 'the grantee hears its share is gone');
    assert.equal(undone[1]!.data.vehicleTokenId, null);
    assert.equal(undone[1]!.vehicleTokenId, vehicle, 'the vehicle it was paired with still hears of it');
  });

  it('a reorg that undoes a vehicle mint announces vehicle.minted.reverted', async () => {
    const ix = indexer();
    await sync(ix);
    const vehicle = await mintVehicle(c.accounts.bob);
    await sync(ix);
    const id = (await db.db.select().from(userDevices))[0]!.id;
    await reorg(1);
    await sync(ix);
    const all = await emitted();
    assert.deepEqual(
      all.map((e) => [e.type, e.vehicleTokenId, e.data.userDeviceId]),
      [
        ['vehicle.minted', vehicle, id],
        ['vehicle.minted.reverted', vehicle, id],
      ],
    );
    assert.equal(all[1]!.data.reorg, true);
  });
});

