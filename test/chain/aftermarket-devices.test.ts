// Aftermarket device lifecycle on the registry, through viem against a real anvil:
// manufacturer minting, claim, pair (both forms), unpair, development unclaim.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, parseEventLogs, toBytes, zeroAddress, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { erc1271WalletAbi, erc1271WalletBytecode, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { mintAftermarketDevices, roleId } from '../../src/chain/deploy.ts';
import { assertReverts, eventsOf, revertChainAfterEachTest, startChain, withLowV, type ChainFixture } from './helpers.ts';

const deviceKey = (n: number): LocalAccount => privateKeyToAccount(keccak256(toBytes(`test device ${n}`)));

describe('aftermarket devices on the registry', () => {
  let c: ChainFixture;
  let autoPi: bigint;
  let ford: bigint;
  const devices = [1, 2, 3].map(deviceKey);
  let adIds: bigint[];

  before(async () => {
    c = await startChain();
    autoPi = c.seed.manufacturers.AutoPi ?? 0n;
    await c.send(c.accounts.relayer, 'mintManufacturer', [c.accounts.deployer.address, 'Ford', []]);
    ford = (await c.read('getManufacturerIdByName', ['Ford'])) as bigint;
    const minted = await mintAftermarketDevices({
      publicClient: c.publicClient,
      walletClient: c.wallet(c.accounts.manufacturer),
      registry: c.deployment.registry,
      manufacturerNode: autoPi,
      devices: devices.map((d, i) => ({ address: d.address, serial: `SERIAL-${i + 1}` })),
    });
    adIds = minted.map((d) => d.tokenId);
  });
  after(async () => {
    await c?.stop();
  });
  revertChainAfterEachTest(() => c);

  const ad = (i: number): bigint => adIds[i] ?? 0n;
  const dev = (i: number): LocalAccount => devices[i] ?? deviceKey(99);

  async function claimArgs(adId: bigint, owner: LocalAccount, device: LocalAccount) {
    const message = { aftermarketDeviceNode: adId, owner: owner.address };
    return [adId, owner.address, await c.sign(owner, 'ClaimAftermarketDeviceSign', message), await c.sign(device, 'ClaimAftermarketDeviceSign', message)] as const;
  }

  async function claim(i: number, owner: LocalAccount) {
    return c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', await claimArgs(ad(i), owner, dev(i)));
  }

  async function mintVehicle(owner: LocalAccount): Promise<bigint> {
    const message = {
      manufacturerNode: ford,
      owner: owner.address,
      deviceDefinitionId: 'ford_bronco_2021',
      attributes: ['Make', 'Model', 'Year'],
      infos: ['Ford', 'Bronco', '2021'],
    };
    const signature = await c.sign(owner, 'MintVehicleWithDeviceDefinitionSign', message);
    const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [
      ford,
      owner.address,
      'ford_bronco_2021',
      [
        { attribute: 'Make', info: 'Ford' },
        { attribute: 'Model', info: 'Bronco' },
        { attribute: 'Year', info: '2021' },
      ],
      signature,
    ]);
    const [minted] = eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition');
    return minted?.args.vehicleId as bigint;
  }

  const pairMessage = (adId: bigint, vehicleId: bigint) => ({ aftermarketDeviceNode: adId, vehicleNode: vehicleId });

  async function pairSameOwner(i: number, vehicleId: bigint, owner: LocalAccount) {
    const sig = await c.sign(owner, 'PairAftermarketDeviceSign', pairMessage(ad(i), vehicleId));
    return c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(i), vehicleId, sig]);
  }

  /** The two-signature form: the device key and the vehicle's owner both sign. */
  async function pairAcrossOwners(i: number, vehicleId: bigint, vehicleOwner: LocalAccount) {
    const message = pairMessage(ad(i), vehicleId);
    return c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [
      ad(i),
      vehicleId,
      await c.sign(dev(i), 'PairAftermarketDeviceSign', message),
      await c.sign(vehicleOwner, 'PairAftermarketDeviceSign', message),
    ]);
  }

  describe('manufacturer batch mint', () => {
    it('mints each device to the manufacturer owner, bound to its address, with a Serial attribute', async () => {
      const key = deviceKey(10);
      const receipt = await c.send(c.accounts.manufacturer, 'mintAftermarketDeviceByManufacturerBatch', [
        autoPi,
        [{ addr: key.address, attrInfoPairs: [{ attribute: 'Serial', info: 'NEW-SERIAL' }] }],
      ]);
      const [minted] = eventsOf(receipt, 'AftermarketDeviceNodeMinted');
      const tokenId = minted?.args.tokenId as bigint;
      assert.deepEqual(minted?.args, {
        manufacturerId: autoPi,
        tokenId,
        aftermarketDeviceAddress: key.address,
        owner: c.accounts.manufacturer.address,
      });
      assert.deepEqual(eventsOf(receipt, 'AftermarketDeviceAttributeSet').map((e) => e.args), [
        { tokenId, attribute: 'Serial', info: 'NEW-SERIAL' },
      ]);
      const transfers = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'Transfer' });
      assert.equal(transfers.length, 1);
      assert.equal(transfers[0]?.address.toLowerCase(), c.deployment.aftermarketDeviceId.toLowerCase());
      assert.deepEqual(transfers[0]?.args, { from: zeroAddress, to: c.accounts.manufacturer.address, tokenId });

      assert.equal(await c.read('getAftermarketDeviceIdByAddress', [key.address]), tokenId);
      assert.equal(await c.read('getAftermarketDeviceAddressById', [tokenId]), key.address);
      assert.equal(await c.read('getInfo', [c.deployment.aftermarketDeviceId, tokenId, 'Serial']), 'NEW-SERIAL');
      assert.equal(await c.read('getParentNode', [c.deployment.aftermarketDeviceId, tokenId]), autoPi);
      assert.equal(await c.read('isAftermarketDeviceClaimed', [tokenId]), false);
    });

    it('gives sequential token ids from 1, in the order of the batch', () => {
      assert.deepEqual(adIds, [1n, 2n, 3n]);
    });

    it('refuses a caller who neither owns the manufacturer nor holds its minter privilege', async () => {
      await assertReverts(
        c.simulate(c.accounts.stranger, 'mintAftermarketDeviceByManufacturerBatch', [autoPi, [{ addr: deviceKey(11).address, attrInfoPairs: [] }]]),
        'Unauthorized',
        [c.accounts.stranger.address],
      );
    });

    it('lets a holder of the minter privilege (id 1) mint for the manufacturer', async () => {
      const expires = 2n ** 40n;
      const hash = await c.wallet(c.accounts.manufacturer).writeContract({
        address: c.deployment.manufacturerId,
        abi: nodeNftAbi,
        functionName: 'setPrivilege',
        args: [autoPi, 1n, c.accounts.carol.address, expires],
        account: c.accounts.manufacturer,
        chain: undefined,
      });
      await c.publicClient.waitForTransactionReceipt({ hash });
      const receipt = await c.send(c.accounts.carol, 'mintAftermarketDeviceByManufacturerBatch', [
        autoPi,
        [{ addr: deviceKey(12).address, attrInfoPairs: [] }],
      ]);
      const [minted] = eventsOf(receipt, 'AftermarketDeviceNodeMinted');
      assert.equal(minted?.args.owner, c.accounts.manufacturer.address);
    });

    it('refuses a device address that is already registered', async () => {
      await assertReverts(
        c.simulate(c.accounts.manufacturer, 'mintAftermarketDeviceByManufacturerBatch', [autoPi, [{ addr: dev(0).address, attrInfoPairs: [] }]]),
        'DeviceAlreadyRegistered',
        [dev(0).address],
      );
    });

    it('refuses an unknown manufacturer and an attribute that is not whitelisted', async () => {
      await assertReverts(
        c.simulate(c.accounts.manufacturer, 'mintAftermarketDeviceByManufacturerBatch', [999n, []]),
        'InvalidParentNode',
        [999n],
      );
      await assertReverts(
        c.simulate(c.accounts.manufacturer, 'mintAftermarketDeviceByManufacturerBatch', [
          autoPi,
          [{ addr: deviceKey(13).address, attrInfoPairs: [{ attribute: 'Colour', info: 'red' }] }],
        ]),
        'AttributeNotWhitelisted',
        ['Colour'],
      );
    });
  });

  describe('claim', () => {
    it('transfers the device NFT to the owner and emits AftermarketDeviceClaimed', async () => {
      const receipt = await claim(0, c.accounts.alice);
      assert.deepEqual(eventsOf(receipt, 'AftermarketDeviceClaimed').map((e) => e.args), [
        { aftermarketDeviceNode: ad(0), owner: c.accounts.alice.address },
      ]);
      const transfers = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'Transfer' });
      assert.deepEqual(transfers.map((t) => t.args), [
        { from: c.accounts.manufacturer.address, to: c.accounts.alice.address, tokenId: ad(0) },
      ]);
      const owner = await c.publicClient.readContract({
        address: c.deployment.aftermarketDeviceId,
        abi: nodeNftAbi,
        functionName: 'ownerOf',
        args: [ad(0)],
      });
      assert.equal(owner, c.accounts.alice.address);
      assert.equal(await c.read('isAftermarketDeviceClaimed', [ad(0)]), true);
    });

    it('reverts when the device is already claimed', async () => {
      await claim(0, c.accounts.alice);
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', await claimArgs(ad(0), c.accounts.bob, dev(0))),
        'DeviceAlreadyClaimed',
        [ad(0)],
      );
    });

    it('reverts when the owner signature is not the owner’s', async () => {
      const [id, owner, , deviceSig] = await claimArgs(ad(0), c.accounts.alice, dev(0));
      const bobSig = await c.sign(c.accounts.bob, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: id, owner });
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', [id, owner, bobSig, deviceSig]),
        'InvalidOwnerSignature',
      );
    });

    it('reverts when the device signature is not from the device’s key', async () => {
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', await claimArgs(ad(0), c.accounts.alice, dev(1))),
        'InvalidAdSignature',
      );
    });

    it('reverts for a token that does not exist', async () => {
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', await claimArgs(77n, c.accounts.alice, dev(0))),
        'InvalidNode',
        [c.deployment.aftermarketDeviceId, 77n],
      );
    });

    it('rejects signatures with v = 0/1, so clients must normalise v to 27/28', async () => {
      const [id, owner, ownerSig, deviceSig] = await claimArgs(ad(0), c.accounts.alice, dev(0));
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', [id, owner, withLowV(ownerSig), deviceSig]),
        'InvalidOwnerSignature',
      );
    });

    it('accepts an ERC-1271 contract wallet as the owner', async () => {
      const deployHash = await c.wallet(c.accounts.alice).deployContract({
        abi: erc1271WalletAbi,
        bytecode: erc1271WalletBytecode,
        args: [c.accounts.alice.address],
        account: c.accounts.alice,
        chain: undefined,
      });
      const wallet = (await c.publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress;
      assert.ok(wallet);
      const message = { aftermarketDeviceNode: ad(0), owner: wallet };
      // The wallet's signer signs the same digest; the contract asks the wallet (ERC-1271).
      const ownerSig = await c.sign(c.accounts.alice, 'ClaimAftermarketDeviceSign', message);
      const deviceSig = await c.sign(dev(0), 'ClaimAftermarketDeviceSign', message);
      const receipt = await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [ad(0), wallet, ownerSig, deviceSig]);
      assert.equal(eventsOf(receipt, 'AftermarketDeviceClaimed').length, 1);

      const bobSig = await c.sign(c.accounts.bob, 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: ad(1), owner: wallet });
      await assertReverts(
        c.simulate(c.accounts.relayer, 'claimAftermarketDeviceSign', [
          ad(1),
          wallet,
          bobSig,
          await c.sign(dev(1), 'ClaimAftermarketDeviceSign', { aftermarketDeviceNode: ad(1), owner: wallet }),
        ]),
        'InvalidOwnerSignature',
      );
    });
  });

  describe('pair', () => {
    it('pairs a device and a vehicle of the same owner on the owner’s signature alone', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.alice);
      const receipt = await pairSameOwner(0, vehicle, c.accounts.alice);
      assert.deepEqual(eventsOf(receipt, 'AftermarketDevicePaired').map((e) => e.args), [
        { aftermarketDeviceNode: ad(0), vehicleNode: vehicle, owner: c.accounts.alice.address },
      ]);
      assert.equal(await c.read('getLink', [c.deployment.vehicleId, vehicle]), ad(0));
      assert.equal(await c.read('getLink', [c.deployment.aftermarketDeviceId, ad(0)]), vehicle);
    });

    it('pairs across two owners with the device and vehicle owner signatures', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.bob);
      const receipt = await pairAcrossOwners(0, vehicle, c.accounts.bob);
      // The event names the device's owner, as DIMO's does.
      assert.deepEqual(eventsOf(receipt, 'AftermarketDevicePaired').map((e) => e.args), [
        { aftermarketDeviceNode: ad(0), vehicleNode: vehicle, owner: c.accounts.alice.address },
      ]);
    });

    it('reverts in the same-owner form when the owners differ', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.bob);
      const sig = await c.sign(c.accounts.bob, 'PairAftermarketDeviceSign', pairMessage(ad(0), vehicle));
      await assertReverts(c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), vehicle, sig]), 'OwnersDoNotMatch');
    });

    it('reverts when the device is not claimed', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pairMessage(ad(0), vehicle));
      await assertReverts(c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), vehicle, sig]), 'AdNotClaimed', [ad(0)]);
    });

    it('reverts when the vehicle is already paired', async () => {
      await claim(0, c.accounts.alice);
      await claim(1, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.alice);
      await pairSameOwner(0, vehicle, c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pairMessage(ad(1), vehicle));
      await assertReverts(c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(1), vehicle, sig]), 'VehiclePaired', [vehicle]);
    });

    it('reverts when the device is already paired', async () => {
      await claim(0, c.accounts.alice);
      const first = await mintVehicle(c.accounts.alice);
      const second = await mintVehicle(c.accounts.alice);
      await pairSameOwner(0, first, c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pairMessage(ad(0), second));
      await assertReverts(c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), second, sig]), 'AdPaired', [ad(0)]);
    });

    it('reverts on a bad vehicle owner or device signature', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.bob);
      const message = pairMessage(ad(0), vehicle);
      const strangerSig = await c.sign(c.accounts.stranger, 'PairAftermarketDeviceSign', message);
      await assertReverts(
        c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), vehicle, await c.sign(dev(0), 'PairAftermarketDeviceSign', message), strangerSig]),
        'InvalidOwnerSignature',
      );
      await assertReverts(
        c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), vehicle, await c.sign(dev(1), 'PairAftermarketDeviceSign', message), await c.sign(c.accounts.bob, 'PairAftermarketDeviceSign', message)]),
        'InvalidAdSignature',
      );
      const mine = await mintVehicle(c.accounts.alice);
      await assertReverts(
        c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), mine, await c.sign(c.accounts.stranger, 'PairAftermarketDeviceSign', pairMessage(ad(0), mine))]),
        'InvalidOwnerSignature',
      );
    });

    it('reverts for a vehicle that does not exist', async () => {
      await claim(0, c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pairMessage(ad(0), 404n));
      await assertReverts(
        c.simulate(c.accounts.relayer, 'pairAftermarketDeviceSign', [ad(0), 404n, sig]),
        'InvalidNode',
        [c.deployment.vehicleId, 404n],
      );
    });
  });

  describe('unpair', () => {
    async function pairedAcrossOwners() {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.bob);
      await pairAcrossOwners(0, vehicle, c.accounts.bob);
      return vehicle;
    }

    async function unpair(vehicle: bigint, signer: LocalAccount) {
      const sig = await c.sign(signer, 'UnPairAftermarketDeviceSign', pairMessage(ad(0), vehicle));
      return c.send(c.accounts.relayer, 'unpairAftermarketDeviceSign', [ad(0), vehicle, sig]);
    }

    it('accepts the vehicle owner’s signature and clears both links', async () => {
      const vehicle = await pairedAcrossOwners();
      const receipt = await unpair(vehicle, c.accounts.bob);
      assert.deepEqual(eventsOf(receipt, 'AftermarketDeviceUnpaired').map((e) => e.args), [
        { aftermarketDeviceNode: ad(0), vehicleNode: vehicle, owner: c.accounts.alice.address },
      ]);
      assert.equal(await c.read('getLink', [c.deployment.vehicleId, vehicle]), 0n);
      assert.equal(await c.read('getLink', [c.deployment.aftermarketDeviceId, ad(0)]), 0n);
    });

    it('accepts the device owner’s signature', async () => {
      const vehicle = await pairedAcrossOwners();
      const receipt = await unpair(vehicle, c.accounts.alice);
      assert.equal(eventsOf(receipt, 'AftermarketDeviceUnpaired').length, 1);
    });

    it('reverts on a signature from neither owner', async () => {
      const vehicle = await pairedAcrossOwners();
      const sig = await c.sign(c.accounts.stranger, 'UnPairAftermarketDeviceSign', pairMessage(ad(0), vehicle));
      await assertReverts(c.simulate(c.accounts.relayer, 'unpairAftermarketDeviceSign', [ad(0), vehicle, sig]), 'InvalidSigner');
    });

    it('reverts when the device and vehicle are not paired with each other', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'UnPairAftermarketDeviceSign', pairMessage(ad(0), vehicle));
      await assertReverts(c.simulate(c.accounts.relayer, 'unpairAftermarketDeviceSign', [ad(0), vehicle, sig]), 'VehicleNotPaired', [vehicle]);
    });

    it('allows pairing again after an unpair', async () => {
      const vehicle = await pairedAcrossOwners();
      await unpair(vehicle, c.accounts.bob);
      const receipt = await pairAcrossOwners(0, vehicle, c.accounts.bob);
      assert.equal(eventsOf(receipt, 'AftermarketDevicePaired').length, 1);
    });
  });

  describe('development unclaim', () => {
    it('returns the NFT to the manufacturer owner so another user can claim the device', async () => {
      await claim(0, c.accounts.alice);
      const receipt = await c.send(c.accounts.relayer, 'unclaimAftermarketDeviceNode', [[ad(0)]]);
      assert.deepEqual(eventsOf(receipt, 'AftermarketDeviceUnclaimed').map((e) => e.args), [
        { aftermarketDeviceNode: ad(0), owner: c.accounts.alice.address },
      ]);
      const transfers = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'Transfer' });
      assert.deepEqual(transfers.map((t) => t.args), [
        { from: c.accounts.alice.address, to: c.accounts.manufacturer.address, tokenId: ad(0) },
      ]);
      assert.equal(await c.read('isAftermarketDeviceClaimed', [ad(0)]), false);
      const again = await claim(0, c.accounts.bob);
      assert.equal(eventsOf(again, 'AftermarketDeviceClaimed').length, 1);
    });

    it('refuses a paired device and an unclaimed one', async () => {
      await claim(0, c.accounts.alice);
      const vehicle = await mintVehicle(c.accounts.alice);
      await pairSameOwner(0, vehicle, c.accounts.alice);
      await assertReverts(c.simulate(c.accounts.relayer, 'unclaimAftermarketDeviceNode', [[ad(0)]]), 'AdPaired', [ad(0)]);
      await assertReverts(c.simulate(c.accounts.relayer, 'unclaimAftermarketDeviceNode', [[ad(1)]]), 'AdNotClaimed', [ad(1)]);
    });

    it('needs the development role', async () => {
      await claim(0, c.accounts.alice);
      await assertReverts(
        c.simulate(c.accounts.stranger, 'unclaimAftermarketDeviceNode', [[ad(0)]]),
        'AccessControlUnauthorizedAccount',
        [c.accounts.stranger.address, roleId('DEV_AD_UNCLAIM_ROLE')],
      );
    });
  });
});
