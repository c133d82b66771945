// The registry's surface: DIMO-compatible ABI and EIP-712 constants, relayer-only access to the
// `*Sign` functions, manufacturer and integration minting.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  getAbiItem,
  hashDomain,
  hashTypedData,
  keccak256,
  toBytes,
  toEventSelector,
  toFunctionSelector,
  toHex,
  type AbiFunction,
  type Address,
  type Hex,
  type TypedData,
} from 'viem';
import { dimoRegistryAbi, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { RELAYER_ROLE_NAMES, roleId } from '../../src/chain/deploy.ts';
import { assertReverts, domainFor, eventsOf, registryTypes, revertChainAfterEachTest, startChain, type ChainFixture } from './helpers.ts';

const POLYGON_REGISTRY: Address = '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC';
const OWNER: Address = '0x1111111111111111111111111111111111111111';

describe('registry ABI compatibility with DIMO', () => {
  const selectorOf = (name: string, inputs: number) => {
    const item = dimoRegistryAbi.find(
      (i): i is AbiFunction & typeof i => i.type === 'function' && i.name === name && i.inputs.length === inputs,
    );
    assert.ok(item, `${name}/${inputs} missing from the ABI`);
    return toFunctionSelector(item);
  };

  it('has DIMO’s function selectors for every call the service makes', () => {
    const expected: [string, number, Hex][] = [
      ['claimAftermarketDeviceSign', 4, '0x89a841bb'],
      ['pairAftermarketDeviceSign', 4, '0xb50df2f7'],
      ['pairAftermarketDeviceSign', 3, '0xcfe642dd'],
      ['unpairAftermarketDeviceSign', 3, '0x3f65997a'],
      ['mintVehicleWithDeviceDefinitionSign', 5, '0x8dca2b8e'],
      ['mintSyntheticDeviceSign', 1, '0xc624e8a1'],
      ['burnVehicleSign', 2, '0xd0b61156'],
      ['burnSyntheticDeviceSign', 3, '0x7c7c9978'],
      ['mintAftermarketDeviceByManufacturerBatch', 2, '0x7ba79a39'],
      ['unclaimAftermarketDeviceNode', 1, '0x5c129493'],
      ['getAftermarketDeviceIdByAddress', 1, '0x9796cf22'],
      ['getAftermarketDeviceAddressById', 1, '0x682a25e3'],
      ['isAftermarketDeviceClaimed', 1, '0xc6b36f2a'],
      ['getLink', 2, '0x112e62a2'],
      ['hasRole', 2, '0x91d14854'],
    ];
    for (const [name, inputs, selector] of expected) assert.equal(selectorOf(name, inputs), selector, name);
  });

  it('has DIMO’s event topics', () => {
    const expected: [string, Hex][] = [
      ['AftermarketDeviceNodeMinted', '0xd624fd4c3311e1803d230d97ce71fd60c4f658c30a31fbe08edcb211fd90f63f'],
      ['AftermarketDeviceClaimed', '0x8468d811e5090d3b1a07e28af524e66c128f624e16b07638f419012c779f76ec'],
      ['AftermarketDevicePaired', '0x89ec132808bbf01af00b90fd34e04fd6cfb8dba2813ca5446a415500b83c7938'],
      ['AftermarketDeviceUnpaired', '0xd9135724aa6cdaa5b3ea73e3e0d74cb1a3a6d3cddcb9d58583f05f17bac82a8e'],
      ['AftermarketDeviceUnclaimed', '0x3c800215fb945811565456946ce9f62446cfbbd5529e45180bd31a17ae054b00'],
      ['AftermarketDeviceAttributeSet', '0x977fe0ddf8485988af0b93d70bf5977b48236e9969cdb9b1f55977fbab7cd417'],
      ['VehicleNodeMintedWithDeviceDefinition', '0xc7c7d9ac150ee7eff1ae17be6e6c250d9f574d019d47cd741f693feb1929496c'],
      ['VehicleAttributeSet', '0x3a259e5d4c53f11c343582a8291a82a8cc0b36ec211d5ab48c2f29ebb068e5fb'],
      ['VehicleNodeBurned', '0x7b36384f0fcf18da09247269a4716eecbcbc475a5b2bc7aa371fc1164789508d'],
      ['SyntheticDeviceNodeMinted', toEventSelector('SyntheticDeviceNodeMinted(uint256,uint256,uint256,address,address)')],
    ];
    for (const [name, topic] of expected) {
      const event = dimoRegistryAbi.find((i) => i.type === 'event' && i.name === name);
      assert.ok(event?.type === 'event', `${name} missing`);
      assert.equal(toEventSelector(event), topic, name);
    }
    assert.equal(
      toEventSelector(getAbiItem({ abi: nodeNftAbi, name: 'PrivilegeSet' })),
      toEventSelector('PrivilegeSet(uint256,uint256,uint256,address,uint256)'),
    );
    assert.equal(
      toEventSelector(getAbiItem({ abi: nodeNftAbi, name: 'Transfer' })),
      '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef',
    );
  });

  it('declares the custom errors the service maps to messages', () => {
    const errors = new Set<string>(dimoRegistryAbi.filter((i) => i.type === 'error').map((i) => i.name));
    for (const name of [
      'InvalidOwnerSignature',
      'InvalidAdSignature',
      'InvalidSdSignature',
      'InvalidSigner',
      'DeviceAlreadyClaimed',
      'DeviceAlreadyRegistered',
      'AdNotClaimed',
      'AdPaired',
      'AdNotPaired',
      'VehiclePaired',
      'VehicleNotPaired',
      'OwnersDoNotMatch',
      'InvalidPrivilegeNonce',
      'InvalidNode',
      'InvalidParentNode',
      'AttributeNotWhitelisted',
      'AccessControlUnauthorizedAccount',
      'ERC721InvalidReceiver',
    ]) {
      assert.ok(errors.has(name), `${name} missing`);
    }
  });
});

describe('EIP-712 constants and vectors', () => {
  it('type strings hash to the typehashes in the spec', () => {
    const typehash = (s: string) => keccak256(toBytes(s));
    assert.equal(
      typehash('ClaimAftermarketDeviceSign(uint256 aftermarketDeviceNode,address owner)'),
      '0xe9c1553360948ae2a8aaa5056ec0959a02b1ace8e17c82131834e17c50221d99',
    );
    assert.equal(
      typehash('PairAftermarketDeviceSign(uint256 aftermarketDeviceNode,uint256 vehicleNode)'),
      '0x2fc20392fbe0e33f2f54b3485f76af2689a66f0e9ab139988ebc81c81bfb063e',
    );
    assert.equal(
      typehash('UnPairAftermarketDeviceSign(uint256 aftermarketDeviceNode,uint256 vehicleNode)'),
      '0xf0c476233066480b8071a70befc1d91744ed1c267bb0ad3e3c651594466c63b7',
    );
    assert.equal(
      typehash(
        'MintVehicleWithDeviceDefinitionSign(uint256 manufacturerNode,address owner,string deviceDefinitionId,string[] attributes,string[] infos)',
      ),
      '0x952a5d30ceb3418e12449faaef4f43b3c8bccb0c129c074cb239455510c8beab',
    );
    assert.equal(
      typehash('MintSyntheticDeviceSign(uint256 integrationNode,uint256 vehicleNode)'),
      '0xf433c1ea85bd6278e9edc46402d4e11636481292d51fdcabf9b5e97d76e85e81',
    );
    assert.equal(typehash('BurnVehicleSign(uint256 vehicleNode)'), '0xb8ff1c3a10797a4f2fbbe3a6f1a978106a3c6a48dfefbbd0669f45c1eb9fa1f0');
    assert.equal(
      typehash('SetPrivilegesSign(uint256 tokenId,uint256[] privIds,address user,uint256 expires,uint256 nonce)'),
      '0x3f09ed3b08e1482896532e9435505fa3ae5c2185a47744028b8bb5628d73981d',
    );
  });

  it('the types the tests sign with reproduce the Polygon digest vectors', () => {
    const domain = domainFor(137, POLYGON_REGISTRY);
    const types: TypedData = registryTypes;
    const digest = (primaryType: keyof typeof registryTypes, message: Record<string, unknown>) =>
      hashTypedData({ domain, types, primaryType, message });
    assert.equal(hashDomain({ domain: { ...domain, chainId: 137n }, types: { EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ] } }), '0xcb89132abc52743bee8f285474e19d5c75d7aaac8514d68f1281e4c3c329ee9a');
    assert.equal(
      digest('ClaimAftermarketDeviceSign', { aftermarketDeviceNode: 1n, owner: OWNER }),
      '0xcae5a627fba551187bf27879bedb20c8623f0115c975d940f1ddb6ca1cbbc420',
    );
    assert.equal(
      digest('PairAftermarketDeviceSign', { aftermarketDeviceNode: 1n, vehicleNode: 2n }),
      '0x2c03880ac24ea079908e0f6a052490aa1729b994374f8c3df899b98b78c8378b',
    );
    assert.equal(
      digest('UnPairAftermarketDeviceSign', { aftermarketDeviceNode: 1n, vehicleNode: 2n }),
      '0xfbe0adc8e121649f99d0ea4be5002773098db39e15051946f0924c1b2579176b',
    );
    assert.equal(
      digest('MintVehicleWithDeviceDefinitionSign', {
        manufacturerNode: 42n,
        owner: OWNER,
        deviceDefinitionId: 'ford_bronco_2021',
        attributes: ['Make', 'Model', 'Year'],
        infos: ['Ford', 'Bronco', '2021'],
      }),
      '0x6a12231f5f8faab50e62e3d03637cc9714b2f6c831c5ee316f08c0b8e71c7277',
    );
  });

  it('the contract’s domain separator is DIMO’s at DIMO’s Polygon address', async () => {
    // Same code, placed at DIMO's address on a chain with id 137: OZ's EIP712 rebuilds the
    // separator from address(this) and block.chainid, so it must equal DIMO's.
    const c = await startChain({ chainId: 137 });
    try {
      await c.testClient.setCode({
        address: POLYGON_REGISTRY,
        bytecode: (await c.publicClient.getCode({ address: c.deployment.registry })) ?? '0x',
      });
      const separator = await c.publicClient.readContract({
        address: POLYGON_REGISTRY,
        abi: dimoRegistryAbi,
        functionName: 'DOMAIN_SEPARATOR',
      });
      assert.equal(separator, '0xcb89132abc52743bee8f285474e19d5c75d7aaac8514d68f1281e4c3c329ee9a');
      const [, name, version, chainId, verifyingContract] = await c.publicClient.readContract({
        address: POLYGON_REGISTRY,
        abi: dimoRegistryAbi,
        functionName: 'eip712Domain',
      });
      assert.deepEqual([name, version, chainId, verifyingContract], ['DIMO', '1', 137n, POLYGON_REGISTRY]);
    } finally {
      await c.stop();
    }
  });
});

describe('registry access and naming', () => {
  let c: ChainFixture;

  before(async () => {
    c = await startChain();
  });
  after(async () => {
    await c?.stop();
  });
  revertChainAfterEachTest(() => c);

  it('refuses every *Sign function to an account without the relayer role', async () => {
    const sig = toHex(new Uint8Array(65));
    const someone = c.accounts.stranger;
    const calls: [string, readonly unknown[], Parameters<typeof roleId>[0]][] = [
      ['claimAftermarketDeviceSign', [1n, someone.address, sig, sig], 'CLAIM_AD_ROLE'],
      ['pairAftermarketDeviceSign', [1n, 1n, sig], 'PAIR_AD_ROLE'],
      ['pairAftermarketDeviceSign', [1n, 1n, sig, sig], 'PAIR_AD_ROLE'],
      ['unpairAftermarketDeviceSign', [1n, 1n, sig], 'UNPAIR_AD_ROLE'],
      ['mintVehicleWithDeviceDefinitionSign', [1n, someone.address, 'dd', [], sig], 'MINT_VEHICLE_ROLE'],
      ['burnVehicleSign', [1n, sig], 'BURN_VEHICLE_ROLE'],
      [
        'mintSyntheticDeviceSign',
        [{ integrationNode: 1n, vehicleNode: 1n, syntheticDeviceSig: sig, vehicleOwnerSig: sig, syntheticDeviceAddr: someone.address, attrInfoPairs: [] }],
        'MINT_SD_ROLE',
      ],
      ['burnSyntheticDeviceSign', [1n, 1n, sig], 'BURN_SD_ROLE'],
      ['setPrivilegesSign', [1n, [1n], someone.address, 1n, 0n, sig], 'SET_PRIVILEGES_ROLE'],
    ];
    for (const [fn, args, role] of calls) {
      await assertReverts(c.simulate(someone, fn, args), 'AccessControlUnauthorizedAccount', [someone.address, roleId(role)]);
    }
  });

  it('grants the relayer every relayer role', async () => {
    for (const role of RELAYER_ROLE_NAMES) {
      assert.equal(await c.read('hasRole', [roleId(role), c.accounts.relayer.address]), true, role);
    }
  });

  it('lets the relayer mint a vehicle make on first use and find it by name', async () => {
    assert.equal(await c.read('getManufacturerIdByName', ['Tesla']), 0n);
    const receipt = await c.send(c.accounts.relayer, 'mintManufacturer', [c.accounts.relayer.address, 'Tesla', []]);
    const [minted] = eventsOf(receipt, 'ManufacturerNodeMinted');
    const tokenId = minted?.args.tokenId as bigint;
    assert.deepEqual(minted?.args, { name: 'Tesla', tokenId, owner: c.accounts.relayer.address });
    assert.equal(await c.read('getManufacturerIdByName', ['Tesla']), tokenId);
    assert.equal(await c.read('getManufacturerNameById', [tokenId]), 'Tesla');
  });

  it('refuses a duplicate or empty manufacturer name, and callers without the role', async () => {
    await assertReverts(
      c.simulate(c.accounts.relayer, 'mintManufacturer', [c.accounts.relayer.address, 'AutoPi', []]),
      'NameAlreadyRegistered',
      ['AutoPi'],
    );
    await assertReverts(c.simulate(c.accounts.relayer, 'mintManufacturer', [c.accounts.relayer.address, '', []]), 'EmptyName');
    await assertReverts(
      c.simulate(c.accounts.stranger, 'mintManufacturer', [c.accounts.stranger.address, 'Stranger Motors', []]),
      'AccessControlUnauthorizedAccount',
      [c.accounts.stranger.address, roleId('MINT_MANUFACTURER_ROLE')],
    );
  });

  it('mints integrations by name for the admin', async () => {
    const receipt = await c.send(c.accounts.deployer, 'mintIntegration', [c.accounts.deployer.address, 'Kia Connect', []]);
    const tokenId = eventsOf(receipt, 'IntegrationNodeMinted')[0]?.args.tokenId as bigint;
    assert.equal(await c.read('getIntegrationIdByName', ['Kia Connect']), tokenId);
    assert.equal(await c.read('getIntegrationNameById', [tokenId]), 'Kia Connect');
  });

  it('wires the node contracts only once', async () => {
    const d = c.deployment;
    await assertReverts(
      c.simulate(c.accounts.deployer, 'setNodeContracts', [d.manufacturerId, d.integrationId, d.vehicleId, d.aftermarketDeviceId, d.syntheticDeviceId]),
      'NodeContractsAlreadySet',
    );
  });

  it('whitelists further attributes for the admin only', async () => {
    await c.send(c.accounts.deployer, 'addAttribute', [c.deployment.vehicleId, 'Colour']);
    assert.equal(await c.read('isAttributeWhitelisted', [c.deployment.vehicleId, 'Colour']), true);
    await assertReverts(c.simulate(c.accounts.deployer, 'addAttribute', [c.deployment.vehicleId, 'Colour']), 'AttributeExists', ['Colour']);
    await assertReverts(
      c.simulate(c.accounts.relayer, 'addAttribute', [c.deployment.vehicleId, 'Trim']),
      'AccessControlUnauthorizedAccount',
      [c.accounts.relayer.address, '0x0000000000000000000000000000000000000000000000000000000000000000'],
    );
  });

  it('deploys within the 24 KiB runtime code limit of public chains', async () => {
    const code = (await c.publicClient.getCode({ address: c.deployment.registry })) ?? '0x';
    const size = (code.length - 2) / 2;
    assert.ok(size > 0 && size <= 24_576, `registry runtime code is ${size} bytes`);
  });
});
