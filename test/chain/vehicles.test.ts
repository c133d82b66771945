// Vehicles, synthetic devices and privileges on the registry, through viem against a real anvil.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFunctionData, getAddress, keccak256, parseEventLogs, toBytes, zeroAddress, type Address, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { erc1271WalletAbi, erc1271WalletBytecode, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import { assertReverts, eventsOf, revertChainAfterEachTest, startChain, type ChainFixture } from './helpers.ts';

const ATTRS = [
  { attribute: 'Make', info: 'Ford' },
  { attribute: 'Model', info: 'Bronco' },
  { attribute: 'Year', info: '2021' },
];
const DD = 'ford_bronco_2021';

const syntheticKey = (n: number): LocalAccount => privateKeyToAccount(keccak256(toBytes(`test synthetic ${n}`)));

describe('vehicles, synthetic devices and privileges on the registry', () => {
  let c: ChainFixture;
  let ford: bigint;
  let smartCar: bigint;

  before(async () => {
    c = await startChain();
    await c.send(c.accounts.relayer, 'mintManufacturer', [c.accounts.deployer.address, 'Ford', []]);
    ford = (await c.read('getManufacturerIdByName', ['Ford'])) as bigint;
    smartCar = c.seed.integrations.SmartCar ?? 0n;
  });
  after(async () => {
    await c?.stop();
  });
  revertChainAfterEachTest(() => c);

  function mintMessage(owner: Address, attrs = ATTRS, dd = DD, manufacturerNode = ford) {
    return {
      manufacturerNode,
      owner,
      deviceDefinitionId: dd,
      attributes: attrs.map((a) => a.attribute),
      infos: attrs.map((a) => a.info),
    };
  }

  async function mintVehicle(owner: LocalAccount): Promise<bigint> {
    const sig = await c.sign(owner, 'MintVehicleWithDeviceDefinitionSign', mintMessage(owner.address));
    const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, owner.address, DD, ATTRS, sig]);
    return eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint;
  }

  async function deployWallet(signer: LocalAccount): Promise<Address> {
    const hash = await c.wallet(signer).deployContract({
      abi: erc1271WalletAbi,
      bytecode: erc1271WalletBytecode,
      args: [signer.address],
      account: signer,
      chain: undefined,
    });
    const address = (await c.publicClient.waitForTransactionReceipt({ hash })).contractAddress;
    assert.ok(address);
    return getAddress(address);
  }

  async function sdArgs(vehicle: bigint, owner: LocalAccount, sdKey: LocalAccount, integrationNode = smartCar) {
    const message = { integrationNode, vehicleNode: vehicle };
    return [
      {
        integrationNode,
        vehicleNode: vehicle,
        syntheticDeviceSig: await c.sign(sdKey, 'MintSyntheticDeviceSign', message),
        vehicleOwnerSig: await c.sign(owner, 'MintSyntheticDeviceSign', message),
        syntheticDeviceAddr: sdKey.address,
        attrInfoPairs: [],
      },
    ] as const;
  }

  const ownerOf = (nft: Address, tokenId: bigint) =>
    c.publicClient.readContract({ address: nft, abi: nodeNftAbi, functionName: 'ownerOf', args: [tokenId] });

  async function nftWrite(account: LocalAccount, nft: Address, functionName: 'setPrivilege' | 'transferFrom', args: readonly unknown[]) {
    const hash = await c.wallet(account).writeContract({
      address: nft,
      abi: nodeNftAbi,
      functionName,
      args: args as never,
      account,
      chain: undefined,
    });
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    return receipt;
  }

  describe('mintVehicleWithDeviceDefinitionSign', () => {
    it('mints to the signing owner with its device definition and attributes', async () => {
      const sig = await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', mintMessage(c.accounts.alice.address));
      const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, c.accounts.alice.address, DD, ATTRS, sig]);
      const [minted] = eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition');
      const vehicleId = minted?.args.vehicleId as bigint;
      assert.deepEqual(minted?.args, { manufacturerId: ford, vehicleId, owner: c.accounts.alice.address, deviceDefinitionId: DD });
      assert.deepEqual(
        eventsOf(receipt, 'VehicleAttributeSet').map((e) => e.args),
        ATTRS.map((a) => ({ tokenId: vehicleId, ...a })),
      );
      const transfers = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'Transfer' });
      assert.deepEqual(transfers.map((t) => [t.address.toLowerCase(), t.args]), [
        [c.deployment.vehicleId.toLowerCase(), { from: zeroAddress, to: c.accounts.alice.address, tokenId: vehicleId }],
      ]);
      assert.equal(await ownerOf(c.deployment.vehicleId, vehicleId), c.accounts.alice.address);
      assert.equal(await c.read('getDeviceDefinitionIdByVehicleId', [vehicleId]), DD);
      assert.equal(await c.read('getInfo', [c.deployment.vehicleId, vehicleId, 'Model']), 'Bronco');
      assert.equal(await c.read('getParentNode', [c.deployment.vehicleId, vehicleId]), ford);
    });

    it('reverts when the signature is not the owner’s', async () => {
      const sig = await c.sign(c.accounts.bob, 'MintVehicleWithDeviceDefinitionSign', mintMessage(c.accounts.alice.address));
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, c.accounts.alice.address, DD, ATTRS, sig]),
        'InvalidOwnerSignature',
      );
    });

    it('binds the attributes in their signed order', async () => {
      const sig = await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', mintMessage(c.accounts.alice.address));
      const reordered = [ATTRS[1], ATTRS[0], ATTRS[2]];
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, c.accounts.alice.address, DD, reordered, sig]),
        'InvalidOwnerSignature',
      );
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, c.accounts.alice.address, 'ford_bronco_2022', ATTRS, sig]),
        'InvalidOwnerSignature',
      );
    });

    it('accepts an ERC-1271 contract wallet owner and refuses a signature its signer did not make', async () => {
      const wallet = await deployWallet(c.accounts.alice);
      const message = mintMessage(wallet);
      const good = await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', message);
      const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, wallet, DD, ATTRS, good]);
      const vehicleId = eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint;
      assert.equal(await ownerOf(c.deployment.vehicleId, vehicleId), wallet);

      const bad = await c.sign(c.accounts.bob, 'MintVehicleWithDeviceDefinitionSign', message);
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, wallet, DD, ATTRS, bad]),
        'InvalidOwnerSignature',
      );
    });

    it('refuses an unknown manufacturer and an attribute that is not whitelisted', async () => {
      const unknown = mintMessage(c.accounts.alice.address, ATTRS, DD, 999n);
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [
          999n,
          c.accounts.alice.address,
          DD,
          ATTRS,
          await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', unknown),
        ]),
        'InvalidParentNode',
        [999n],
      );
      const odd = [{ attribute: 'Colour', info: 'red' }];
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [
          ford,
          c.accounts.alice.address,
          DD,
          odd,
          await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', mintMessage(c.accounts.alice.address, odd)),
        ]),
        'AttributeNotWhitelisted',
        ['Colour'],
      );
    });
  });

  describe('burnVehicleSign', () => {
    it('burns the vehicle its owner signed for', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'BurnVehicleSign', { vehicleNode: vehicle });
      const receipt = await c.send(c.accounts.relayer, 'burnVehicleSign', [vehicle, sig]);
      assert.deepEqual(eventsOf(receipt, 'VehicleNodeBurned').map((e) => e.args), [
        { vehicleNode: vehicle, owner: c.accounts.alice.address },
      ]);
      const transfers = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'Transfer' });
      assert.deepEqual(transfers.map((t) => t.args), [{ from: c.accounts.alice.address, to: zeroAddress, tokenId: vehicle }]);
      const exists = await c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName: 'exists', args: [vehicle] });
      assert.equal(exists, false);
    });

    it('reverts on a signature that is not the owner’s, and for a vehicle that does not exist', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const sig = await c.sign(c.accounts.bob, 'BurnVehicleSign', { vehicleNode: vehicle });
      await assertReverts(c.simulate(c.accounts.relayer, 'burnVehicleSign', [vehicle, sig]), 'InvalidOwnerSignature');
      await assertReverts(
        c.simulate(c.accounts.relayer, 'burnVehicleSign', [404n, sig]),
        'InvalidNode',
        [c.deployment.vehicleId, 404n],
      );
    });

    it('refuses a vehicle paired with an aftermarket device', async () => {
      const key = privateKeyToAccount(keccak256(toBytes('burn test device')));
      const [device] = await mintAftermarketDevices({
        publicClient: c.publicClient,
        walletClient: c.wallet(c.accounts.manufacturer),
        registry: c.deployment.registry,
        manufacturerNode: c.seed.manufacturers.AutoPi ?? 0n,
        devices: [{ address: key.address, serial: 'BURN-1' }],
      });
      const adId = device?.tokenId ?? 0n;
      const claim = { aftermarketDeviceNode: adId, owner: c.accounts.alice.address };
      await c.send(c.accounts.relayer, 'claimAftermarketDeviceSign', [
        adId,
        c.accounts.alice.address,
        await c.sign(c.accounts.alice, 'ClaimAftermarketDeviceSign', claim),
        await c.sign(key, 'ClaimAftermarketDeviceSign', claim),
      ]);
      const vehicle = await mintVehicle(c.accounts.alice);
      const pair = { aftermarketDeviceNode: adId, vehicleNode: vehicle };
      await c.send(c.accounts.relayer, 'pairAftermarketDeviceSign', [adId, vehicle, await c.sign(c.accounts.alice, 'PairAftermarketDeviceSign', pair)]);

      const sig = await c.sign(c.accounts.alice, 'BurnVehicleSign', { vehicleNode: vehicle });
      await assertReverts(c.simulate(c.accounts.relayer, 'burnVehicleSign', [vehicle, sig]), 'VehiclePaired', [vehicle]);
    });

    it('refuses a vehicle with a synthetic device until that is burned', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const sd = syntheticKey(1);
      const receipt = await c.send(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(vehicle, c.accounts.alice, sd));
      const sdId = eventsOf(receipt, 'SyntheticDeviceNodeMinted')[0]?.args.syntheticDeviceNode as bigint;
      const sig = await c.sign(c.accounts.alice, 'BurnVehicleSign', { vehicleNode: vehicle });
      await assertReverts(c.simulate(c.accounts.relayer, 'burnVehicleSign', [vehicle, sig]), 'VehiclePaired', [vehicle]);

      const burnSd = await c.sign(c.accounts.alice, 'BurnSyntheticDeviceSign', { vehicleNode: vehicle, syntheticDeviceNode: sdId });
      const burned = await c.send(c.accounts.relayer, 'burnSyntheticDeviceSign', [vehicle, sdId, burnSd]);
      assert.deepEqual(eventsOf(burned, 'SyntheticDeviceNodeBurned').map((e) => e.args), [
        { syntheticDeviceNode: sdId, vehicleNode: vehicle, owner: c.accounts.alice.address },
      ]);
      assert.equal(await c.read('getSyntheticDeviceIdByAddress', [sd.address]), 0n);
      await c.send(c.accounts.relayer, 'burnVehicleSign', [vehicle, sig]);
    });
  });

  describe('mintSyntheticDeviceSign', () => {
    it('mints a synthetic device to the vehicle owner and links it to the vehicle', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const sd = syntheticKey(1);
      const receipt = await c.send(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(vehicle, c.accounts.alice, sd));
      const [minted] = eventsOf(receipt, 'SyntheticDeviceNodeMinted');
      const sdId = minted?.args.syntheticDeviceNode as bigint;
      assert.deepEqual(minted?.args, {
        integrationNode: smartCar,
        syntheticDeviceNode: sdId,
        vehicleNode: vehicle,
        syntheticDeviceAddress: sd.address,
        owner: c.accounts.alice.address,
      });
      assert.equal(await ownerOf(c.deployment.syntheticDeviceId, sdId), c.accounts.alice.address);
      assert.equal(await c.read('getNodeLink', [c.deployment.vehicleId, c.deployment.syntheticDeviceId, vehicle]), sdId);
      assert.equal(await c.read('getNodeLink', [c.deployment.syntheticDeviceId, c.deployment.vehicleId, sdId]), vehicle);
      assert.equal(await c.read('getSyntheticDeviceIdByAddress', [sd.address]), sdId);
      assert.equal(await c.read('getParentNode', [c.deployment.syntheticDeviceId, sdId]), smartCar);
    });

    it('reverts on a bad synthetic device or owner signature', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const [good] = await sdArgs(vehicle, c.accounts.alice, syntheticKey(1));
      const [wrongSd] = await sdArgs(vehicle, c.accounts.alice, syntheticKey(2));
      const [wrongOwner] = await sdArgs(vehicle, c.accounts.bob, syntheticKey(1));
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintSyntheticDeviceSign', [{ ...good, syntheticDeviceSig: wrongSd.syntheticDeviceSig }]),
        'InvalidSdSignature',
      );
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintSyntheticDeviceSign', [{ ...good, vehicleOwnerSig: wrongOwner.vehicleOwnerSig }]),
        'InvalidOwnerSignature',
      );
    });

    it('refuses a second synthetic device on a vehicle, a reused address and an unknown integration', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const other = await mintVehicle(c.accounts.alice);
      await c.send(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(vehicle, c.accounts.alice, syntheticKey(1)));
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(vehicle, c.accounts.alice, syntheticKey(2))),
        'VehiclePaired',
        [vehicle],
      );
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(other, c.accounts.alice, syntheticKey(1))),
        'DeviceAlreadyRegistered',
        [syntheticKey(1).address],
      );
      await assertReverts(
        c.simulate(c.accounts.relayer, 'mintSyntheticDeviceSign', await sdArgs(other, c.accounts.alice, syntheticKey(3), 999n)),
        'InvalidParentNode',
        [999n],
      );
    });
  });

  describe('privileges (setPrivilege on the vehicle NFT)', () => {
    it('lets the owner grant a privilege, emitting PrivilegeSet, valid until its expiry', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      const block = await c.publicClient.getBlock();
      const expires = block.timestamp + 3600n;
      const receipt = await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [vehicle, 1n, c.accounts.bob.address, expires]);
      const events = parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' });
      assert.deepEqual(events.map((e) => [e.address.toLowerCase(), e.args]), [
        [c.deployment.vehicleId.toLowerCase(), { tokenId: vehicle, version: 0n, privId: 1n, user: c.accounts.bob.address, expires }],
      ]);
      const has = () =>
        c.publicClient.readContract({
          address: c.deployment.vehicleId,
          abi: nodeNftAbi,
          functionName: 'hasPrivilege',
          args: [vehicle, 1n, c.accounts.bob.address],
        });
      assert.equal(await has(), true);
      await c.testClient.setNextBlockTimestamp({ timestamp: expires + 1n });
      await c.testClient.mine({ blocks: 1 });
      assert.equal(await has(), false);
    });

    it('revokes with an expiry in the past', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [vehicle, 4n, c.accounts.bob.address, 2n ** 40n]);
      const receipt = await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [vehicle, 4n, c.accounts.bob.address, 1n]);
      assert.equal(parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' })[0]?.args.expires, 1n);
      const has = await c.publicClient.readContract({
        address: c.deployment.vehicleId,
        abi: nodeNftAbi,
        functionName: 'hasPrivilege',
        args: [vehicle, 4n, c.accounts.bob.address],
      });
      assert.equal(has, false);
    });

    it('refuses anyone but the owner', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      await assertReverts(
        c.publicClient.simulateContract({
          address: c.deployment.vehicleId,
          abi: nodeNftAbi,
          functionName: 'setPrivilege',
          args: [vehicle, 1n, c.accounts.stranger.address, 2n ** 40n],
          account: c.accounts.stranger,
        }),
        'ERC721InsufficientApproval',
        [c.accounts.stranger.address, vehicle],
      );
    });

    it('drops earlier grants when the vehicle changes hands', async () => {
      const vehicle = await mintVehicle(c.accounts.alice);
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'setPrivilege', [vehicle, 1n, c.accounts.bob.address, 2n ** 40n]);
      await nftWrite(c.accounts.alice, c.deployment.vehicleId, 'transferFrom', [c.accounts.alice.address, c.accounts.carol.address, vehicle]);
      const has = await c.publicClient.readContract({
        address: c.deployment.vehicleId,
        abi: nodeNftAbi,
        functionName: 'hasPrivilege',
        args: [vehicle, 1n, c.accounts.bob.address],
      });
      assert.equal(has, false);
      const receipt = await nftWrite(c.accounts.carol, c.deployment.vehicleId, 'setPrivilege', [vehicle, 1n, c.accounts.bob.address, 2n ** 40n]);
      assert.equal(parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' })[0]?.args.version, 1n);
    });

    it('lets a contract-wallet owner grant through its wallet', async () => {
      const wallet = await deployWallet(c.accounts.alice);
      const sig = await c.sign(c.accounts.alice, 'MintVehicleWithDeviceDefinitionSign', mintMessage(wallet));
      const minted = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, wallet, DD, ATTRS, sig]);
      const vehicle = eventsOf(minted, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint;
      const data = encodeFunctionData({ abi: nodeNftAbi, functionName: 'setPrivilege', args: [vehicle, 1n, c.accounts.bob.address, 2n ** 40n] });
      const hash = await c.wallet(c.accounts.alice).writeContract({
        address: wallet,
        abi: erc1271WalletAbi,
        functionName: 'execute',
        args: [c.deployment.vehicleId, data],
        account: c.accounts.alice,
        chain: undefined,
      });
      const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
      assert.equal(parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' }).length, 1);
    });
  });

  describe('node NFTs', () => {
    it('mint only through the registry', async () => {
      await assertReverts(
        c.publicClient.simulateContract({
          address: c.deployment.vehicleId,
          abi: nodeNftAbi,
          functionName: 'safeMint',
          args: [c.accounts.stranger.address],
          account: c.accounts.stranger,
        }),
        'OnlyRegistry',
        [c.accounts.stranger.address],
      );
    });
  });
});
