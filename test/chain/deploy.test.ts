import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, type Abi, createWalletClient, defineChain, getAddress, http, keccak256, toBytes, type PublicClient } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, DEFAULT_ANVIL_MNEMONIC, type AnvilInstance } from '../../src/chain/anvil.ts';
import { dimoRegistryAbi, nodeNftAbi } from '../../src/chain/abi/index.ts';
import {
  deployRegistry,
  mintAftermarketDevices,
  roleId,
  seedRegistry,
  DEV_ROLE_NAMES,
  RELAYER_ROLE_NAMES,
  type RegistryDeployment,
  type SignerClient,
} from '../../src/chain/deploy.ts';

const registryAbi: Abi = dimoRegistryAbi;

describe('deployRegistry / seedRegistry', () => {
  let anvil: AnvilInstance;
  let publicClient: PublicClient;
  let deployer: SignerClient;
  let manufacturer: SignerClient;
  const relayer = mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: 1 }).address;

  before(async () => {
    anvil = await startAnvil();
    const chain = defineChain({
      id: 31337,
      name: 'anvil',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const transport = http(anvil.rpcUrl);
    publicClient = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 });
    deployer = createWalletClient({ chain, transport, account: mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: 0 }) });
    manufacturer = createWalletClient({ chain, transport, account: mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: 2 }) });
  });
  after(async () => {
    await anvil?.stop();
  });

  const read = (d: RegistryDeployment, functionName: string, args: readonly unknown[] = []) =>
    publicClient.readContract({ address: d.registry, abi: registryAbi, functionName, args });

  it('deploys the registry and its node NFTs, wired together, from the returned deploy block', async () => {
    const d = await deployRegistry({ publicClient, walletClient: deployer, relayer });
    for (const address of [d.registry, d.manufacturerId, d.integrationId, d.vehicleId, d.aftermarketDeviceId, d.syntheticDeviceId]) {
      assert.equal(address, getAddress(address), 'checksummed');
      assert.ok(((await publicClient.getCode({ address })) ?? '0x').length > 2, `code at ${address}`);
    }
    assert.equal(await read(d, 'vehicleIdProxyAddress'), d.vehicleId);
    assert.equal(await read(d, 'aftermarketDeviceIdProxyAddress'), d.aftermarketDeviceId);
    assert.equal(await read(d, 'syntheticDeviceIdProxyAddress'), d.syntheticDeviceId);
    assert.equal(await read(d, 'manufacturerIdProxyAddress'), d.manufacturerId);
    assert.equal(await read(d, 'integrationIdProxyAddress'), d.integrationId);
    const registryOfVehicles = await publicClient.readContract({ address: d.vehicleId, abi: nodeNftAbi, functionName: 'registry' });
    assert.equal(registryOfVehicles, d.registry);
    assert.equal(await publicClient.getCode({ address: d.registry, blockNumber: d.deployBlock - 1n }), undefined);
    assert.ok(((await publicClient.getCode({ address: d.registry, blockNumber: d.deployBlock })) ?? '0x').length > 2);
  });

  it('grants the relayer its roles, and the development role only when asked', async () => {
    const plain = await deployRegistry({ publicClient, walletClient: deployer, relayer });
    const dev = await deployRegistry({ publicClient, walletClient: deployer, relayer, devRoles: true });
    for (const role of RELAYER_ROLE_NAMES) {
      assert.equal(await read(plain, 'hasRole', [roleId(role), relayer]), true, role);
    }
    for (const role of DEV_ROLE_NAMES) {
      assert.equal(await read(plain, 'hasRole', [roleId(role), relayer]), false, role);
      assert.equal(await read(dev, 'hasRole', [roleId(role), relayer]), true, role);
    }
    assert.equal(roleId('CLAIM_AD_ROLE'), keccak256(toBytes('CLAIM_AD_ROLE')));
  });

  it('seeds AutoPi, Macaron and two integrations once, however often it runs', async () => {
    const d = await deployRegistry({ publicClient, walletClient: deployer, relayer });
    const opts = { publicClient, walletClient: deployer, registry: d.registry, manufacturerOwner: manufacturer.account.address };
    const first = await seedRegistry(opts);
    assert.deepEqual(first, { manufacturers: { AutoPi: 1n, Macaron: 2n }, integrations: { SmartCar: 1n, Tesla: 2n } });
    const second = await seedRegistry(opts);
    assert.deepEqual(second, first);
    const minted = await publicClient.readContract({ address: d.manufacturerId, abi: nodeNftAbi, functionName: 'totalMinted' });
    assert.equal(minted, 2n);
    const owner = await publicClient.readContract({ address: d.manufacturerId, abi: nodeNftAbi, functionName: 'ownerOf', args: [1n] });
    assert.equal(owner, manufacturer.account.address);
  });

  it('mints a manufacturer’s devices with their serials and returns their token ids in order', async () => {
    const d = await deployRegistry({ publicClient, walletClient: deployer, relayer });
    const seed = await seedRegistry({ publicClient, walletClient: deployer, registry: d.registry, manufacturerOwner: manufacturer.account.address });
    const devices = [3, 4].map((i) => ({
      address: mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: 100 + i }).address,
      serial: `MAC-${i}`,
    }));
    const minted = await mintAftermarketDevices({
      publicClient,
      walletClient: manufacturer,
      registry: d.registry,
      manufacturerNode: seed.manufacturers.Macaron ?? 0n,
      devices,
    });
    assert.deepEqual(minted, devices.map((dev, i) => ({ ...dev, tokenId: BigInt(i + 1) })));
    for (const m of minted) {
      assert.equal(await read(d, 'getInfo', [d.aftermarketDeviceId, m.tokenId, 'Serial']), m.serial);
      assert.equal(await read(d, 'getAftermarketDeviceIdByAddress', [m.address]), m.tokenId);
    }
  });
});
