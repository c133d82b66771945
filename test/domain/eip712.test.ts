import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  concat,
  encodeAbiParameters,
  getAddress,
  hashTypedData,
  keccak256,
  numberToHex,
  parseAbiParameters,
  recoverTypedDataAddress,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  attrInfoPairs,
  burnVehiclePayload,
  claimAftermarketDevicePayload,
  hashPayload,
  mintSyntheticDevicePayload,
  mintVehiclePayload,
  pairAftermarketDevicePayload,
  parsePayload,
  setPrivilegesPayload,
  toViemTypedData,
  typeHash,
  typeString,
  unpairAftermarketDevicePayload,
} from '../../src/domain/eip712.ts';
import type { TypedDataPayload } from '../../src/domain/eip712.ts';

const polygon = { chainId: 137, verifyingContract: '0xfa8bec73cebb9d88ff88a2f75e7d7312f2fd39ec' };
const ones = '0x1111111111111111111111111111111111111111';
const MAX_UINT256 = (1n << 256n) - 1n;
// Anvil's first dev key: a well-known test account, never a real one.
const account = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');

const uint256 = fc.bigInt({ min: 0n, max: MAX_UINT256 });
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(`0x${Buffer.from(b).toString('hex')}`));
const domain = fc.record({ chainId: fc.integer({ min: 1, max: 2 ** 40 }), verifyingContract: address });

function allPayloads(d: typeof polygon, a: bigint, b: bigint, owner: string): TypedDataPayload[] {
  return [
    claimAftermarketDevicePayload(d, { aftermarketDeviceNode: a, owner }),
    pairAftermarketDevicePayload(d, { aftermarketDeviceNode: a, vehicleNode: b }),
    unpairAftermarketDevicePayload(d, { aftermarketDeviceNode: a, vehicleNode: b }),
    mintVehiclePayload(d, { manufacturerNode: a, owner, deviceDefinitionId: 'ford_bronco_2021', make: 'Ford', model: 'Bronco', year: 2021 }),
    mintSyntheticDevicePayload(d, { integrationNode: a, vehicleNode: b }),
    burnVehiclePayload(d, { vehicleNode: b }),
    setPrivilegesPayload(d, { tokenId: a, privIds: [1n, b], user: owner, expires: b, nonce: a }),
  ];
}

describe('EIP-712 typehashes', () => {
  it('match the registry contract for claim, pair and unpair', () => {
    assert.equal(typeHash('ClaimAftermarketDeviceSign'), '0xe9c1553360948ae2a8aaa5056ec0959a02b1ace8e17c82131834e17c50221d99');
    assert.equal(typeHash('PairAftermarketDeviceSign'), '0x2fc20392fbe0e33f2f54b3485f76af2689a66f0e9ab139988ebc81c81bfb063e');
    assert.equal(typeHash('UnPairAftermarketDeviceSign'), '0xf0c476233066480b8071a70befc1d91744ed1c267bb0ad3e3c651594466c63b7');
  });

  it('match the registry contract for vehicle mint, synthetic mint and burn', () => {
    assert.equal(typeHash('MintVehicleWithDeviceDefinitionSign'), '0x952a5d30ceb3418e12449faaef4f43b3c8bccb0c129c074cb239455510c8beab');
    assert.equal(typeHash('MintSyntheticDeviceSign'), '0xf433c1ea85bd6278e9edc46402d4e11636481292d51fdcabf9b5e97d76e85e81');
    assert.equal(typeHash('BurnVehicleSign'), '0xb8ff1c3a10797a4f2fbbe3a6f1a978106a3c6a48dfefbbd0669f45c1eb9fa1f0');
  });

  it('match the registry contract for the signed privilege grant', () => {
    assert.equal(typeHash('SetPrivilegesSign'), '0x3f09ed3b08e1482896532e9435505fa3ae5c2185a47744028b8bb5628d73981d');
    assert.equal(
      typeString('SetPrivilegesSign'),
      'SetPrivilegesSign(uint256 tokenId,uint256[] privIds,address user,uint256 expires,uint256 nonce)',
    );
  });

  it('spells unpair with a capital P in the type string', () => {
    assert.equal(typeString('UnPairAftermarketDeviceSign'), 'UnPairAftermarketDeviceSign(uint256 aftermarketDeviceNode,uint256 vehicleNode)');
  });
});

describe('EIP-712 digests', () => {
  it('reproduce the claim vector on Polygon', () => {
    const p = claimAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, owner: ones });
    assert.equal(hashPayload(p), '0xcae5a627fba551187bf27879bedb20c8623f0115c975d940f1ddb6ca1cbbc420');
  });

  it('reproduce the pair vector on Polygon', () => {
    const p = pairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, vehicleNode: 2n });
    assert.equal(hashPayload(p), '0x2c03880ac24ea079908e0f6a052490aa1729b994374f8c3df899b98b78c8378b');
  });

  it('reproduce the unpair and vehicle mint vectors of the reference', () => {
    const unpair = unpairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, vehicleNode: 2n });
    assert.equal(hashPayload(unpair), '0xfbe0adc8e121649f99d0ea4be5002773098db39e15051946f0924c1b2579176b');
    const mint = mintVehiclePayload(polygon, {
      manufacturerNode: 42n, owner: ones, deviceDefinitionId: 'ford_bronco_2021', make: 'Ford', model: 'Bronco', year: 2021,
    });
    assert.equal(hashPayload(mint), '0x6a12231f5f8faab50e62e3d03637cc9714b2f6c831c5ee316f08c0b8e71c7277');
  });

  it('hash the privilege list as the contract does (keccak of the 32-byte ids), checked by hand on Polygon', () => {
    const p = setPrivilegesPayload(polygon, { tokenId: 2n, privIds: [1n, 3n], user: ones, expires: 1_700_000_000n, nonce: 0n });
    const word = (n: bigint) => numberToHex(n, { size: 32 });
    const structHash = keccak256(
      encodeAbiParameters(parseAbiParameters('bytes32, uint256, bytes32, address, uint256, uint256'), [
        typeHash('SetPrivilegesSign'),
        2n,
        keccak256(concat([word(1n), word(3n)])),
        ones,
        1_700_000_000n,
        0n,
      ]),
    );
    const polygonSeparator = '0xcb89132abc52743bee8f285474e19d5c75d7aaac8514d68f1281e4c3c329ee9a';
    const expected = keccak256(concat(['0x1901', polygonSeparator, structHash]));
    assert.equal(expected, '0x5cd3ec2147e627fe0e8b89ed72ae8202eef2394084575facebb8f953c70fc5be');
    assert.equal(hashPayload(p), expected);
  });

  it('differ for every field of a privilege grant (no replay onto another grant)', () => {
    const base = { tokenId: 2n, privIds: [1n, 3n], user: ones, expires: 1_700_000_000n, nonce: 4n };
    const variants = [
      { ...base, tokenId: 3n },
      { ...base, privIds: [3n, 1n] },
      { ...base, privIds: [1n] },
      { ...base, privIds: [] },
      { ...base, user: '0x2222222222222222222222222222222222222222' },
      { ...base, expires: 0n },
      { ...base, nonce: 5n },
    ];
    const digests = new Set([base, ...variants].map((m) => hashPayload(setPrivilegesPayload(polygon, m))));
    assert.equal(digests.size, variants.length + 1);
  });

  it('differ between pair and unpair of the same nodes (no replay across actions)', () => {
    const pair = pairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, vehicleNode: 2n });
    const unpair = unpairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, vehicleNode: 2n });
    assert.notEqual(hashPayload(pair), hashPayload(unpair));
  });

  it('equal what viem computes from the payload with EIP712Domain still in types (MetaMask style)', () => {
    for (const p of allPayloads(polygon, 7n, 9n, ones)) {
      const v = toViemTypedData(p);
      const withDomainType = { ...v, types: { ...v.types, EIP712Domain: p.types.EIP712Domain } };
      assert.equal(hashTypedData(withDomainType as Parameters<typeof hashTypedData>[0]), hashPayload(p));
    }
  });
});

describe('EIP-712 JSON payload', () => {
  it('is the eth_signTypedData_v4 object with a numeric chainId, decimal uints and checksummed addresses', () => {
    const p = claimAftermarketDevicePayload({ chainId: 80002, verifyingContract: polygon.verifyingContract }, {
      aftermarketDeviceNode: 123456789012345678901234567890n,
      owner: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    });
    assert.deepEqual(p, {
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
        ],
        ClaimAftermarketDeviceSign: [
          { name: 'aftermarketDeviceNode', type: 'uint256' },
          { name: 'owner', type: 'address' },
        ],
      },
      primaryType: 'ClaimAftermarketDeviceSign',
      domain: { name: 'DIMO', version: '1', chainId: 80002, verifyingContract: '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC' },
      message: { aftermarketDeviceNode: '123456789012345678901234567890', owner: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' },
    });
  });

  it('gives privilege ids as decimal strings and the grantee checksummed', () => {
    const p = setPrivilegesPayload(polygon, {
      tokenId: 12n,
      privIds: [1n, 3n],
      user: '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
      expires: 1_767_225_600n,
      nonce: 0n,
    });
    assert.deepEqual(p.types.SetPrivilegesSign, [
      { name: 'tokenId', type: 'uint256' },
      { name: 'privIds', type: 'uint256[]' },
      { name: 'user', type: 'address' },
      { name: 'expires', type: 'uint256' },
      { name: 'nonce', type: 'uint256' },
    ]);
    assert.equal(p.primaryType, 'SetPrivilegesSign');
    assert.deepEqual(p.message, {
      tokenId: '12',
      privIds: ['1', '3'],
      user: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      expires: '1767225600',
      nonce: '0',
    });
    assert.throws(() => setPrivilegesPayload(polygon, { tokenId: 1n, privIds: [-1n], user: ones, expires: 0n, nonce: 0n }), RangeError);
  });

  it('puts the vehicle mint attributes in the order Make, Model, Year with the year as text', () => {
    const p = mintVehiclePayload(polygon, {
      manufacturerNode: 1n, owner: ones, deviceDefinitionId: 'tesla_model-3_2019', make: 'Tesla', model: 'Model 3', year: 2019,
    });
    assert.deepEqual(p.message.attributes, ['Make', 'Model', 'Year']);
    assert.deepEqual(p.message.infos, ['Tesla', 'Model 3', '2019']);
    assert.deepEqual(attrInfoPairs(p.message), [
      { attribute: 'Make', info: 'Tesla' },
      { attribute: 'Model', info: 'Model 3' },
      { attribute: 'Year', info: '2019' },
    ]);
  });

  it('survives JSON.stringify and JSON.parse unchanged, digest included', () => {
    fc.assert(
      fc.property(domain, uint256, uint256, address, (d, a, b, owner) => {
        for (const p of allPayloads(d, a, b, owner)) {
          const back = JSON.parse(JSON.stringify(p)) as TypedDataPayload;
          assert.deepEqual(back, p);
          assert.equal(hashPayload(back), hashPayload(p));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('does not share field arrays between payloads', () => {
    const a = burnVehiclePayload(polygon, { vehicleNode: 1n });
    (a.types.BurnVehicleSign as { name: string; type: string }[]).push({ name: 'x', type: 'uint256' });
    assert.equal(burnVehiclePayload(polygon, { vehicleNode: 1n }).types.BurnVehicleSign.length, 1);
  });

  it('refuses out-of-range values and a bad domain instead of emitting a payload nobody can sign', () => {
    assert.throws(() => burnVehiclePayload(polygon, { vehicleNode: -1n }), RangeError);
    assert.throws(() => burnVehiclePayload(polygon, { vehicleNode: MAX_UINT256 + 1n }), RangeError);
    assert.throws(() => burnVehiclePayload({ chainId: 0, verifyingContract: ones }, { vehicleNode: 1n }), RangeError);
    assert.throws(() => burnVehiclePayload({ chainId: 1, verifyingContract: '0x1234' }, { vehicleNode: 1n }), TypeError);
    assert.throws(() => claimAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, owner: 'nope' }), TypeError);
  });
});

describe('signing a payload like a wallet does', () => {
  it('recovers to the account that signed it, for every primary type', async () => {
    for (const p of allPayloads(polygon, 5n, 6n, account.address)) {
      // What a wallet does with the JSON: parse, uints to BigInt, EIP712Domain dropped.
      const typed = toViemTypedData(JSON.parse(JSON.stringify(p)) as TypedDataPayload);
      assert.equal(Object.hasOwn(typed.types, 'EIP712Domain'), false);
      const signature = await account.signTypedData(typed);
      assert.equal(await recoverTypedDataAddress({ ...typed, signature }), account.address);
    }
  });

  it('signs and recovers a privilege grant, the ids back as bigints', async () => {
    const p = setPrivilegesPayload(polygon, { tokenId: 9n, privIds: [8n, MAX_UINT256], user: ones, expires: 0n, nonce: 3n });
    const typed = toViemTypedData(JSON.parse(JSON.stringify(p)) as typeof p);
    assert.deepEqual(typed.message.privIds, [8n, MAX_UINT256]);
    const signature = await account.signTypedData(typed);
    assert.equal(await recoverTypedDataAddress({ ...(typed as unknown as Parameters<typeof recoverTypedDataAddress>[0]), signature }), account.address);
  });

  it('converts uint fields to bigints with the exact value', () => {
    const big = MAX_UINT256 - 3n;
    const typed = toViemTypedData(pairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: big, vehicleNode: 0n }));
    assert.deepEqual(typed.message, { aftermarketDeviceNode: big, vehicleNode: 0n });
    assert.equal(typed.domain.chainId, 137);
  });
});

describe('parsePayload', () => {
  it('gives back every payload we build, canonical and unchanged', () => {
    fc.assert(
      fc.property(domain, uint256, uint256, address, (d, a, b, owner) => {
        for (const p of allPayloads(d, a, b, owner)) assert.deepEqual(parsePayload(JSON.parse(JSON.stringify(p))), p);
      }),
      { numRuns: 50 },
    );
  });

  it('reads the original Go API shape (hex uints and chainId, empty salt) to the same digest', () => {
    const original = {
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
        ],
        ClaimAftermarketDeviceSign: [{ name: 'aftermarketDeviceNode', type: 'uint256' }, { name: 'owner', type: 'address' }],
      },
      primaryType: 'ClaimAftermarketDeviceSign',
      domain: { name: 'DIMO', version: '1', chainId: '0x89', verifyingContract: '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC', salt: '' },
      message: { aftermarketDeviceNode: '0x1', owner: '0x1111111111111111111111111111111111111111' },
    };
    const parsed = parsePayload(original);
    assert.ok(parsed);
    assert.equal(hashPayload(parsed), '0xcae5a627fba551187bf27879bedb20c8623f0115c975d940f1ddb6ca1cbbc420');
  });

  it('refuses payloads that are not one of the registry types or whose values do not fit', () => {
    const good = JSON.parse(JSON.stringify(pairAftermarketDevicePayload(polygon, { aftermarketDeviceNode: 1n, vehicleNode: 2n })));
    const variants: ((p: any) => void)[] = [
      (p) => { p.primaryType = 'Transfer'; },
      (p) => { p.types.PairAftermarketDeviceSign[1].type = 'uint128'; },
      (p) => { p.types.Extra = []; },
      (p) => { p.types.EIP712Domain.pop(); },
      (p) => { p.domain.name = 'NotDIMO'; },
      (p) => { p.domain.chainId = 0; },
      (p) => { p.domain.verifyingContract = '0x12'; },
      (p) => { p.message.vehicleNode = '-1'; },
      (p) => { p.message.vehicleNode = '1e3'; },
      (p) => { p.message.vehicleNode = (MAX_UINT256 + 1n).toString(); },
      (p) => { p.message.vehicleNode = 1.5; },
      (p) => { p.message.extra = '1'; },
      (p) => { delete p.message.vehicleNode; },
    ];
    const grant = JSON.parse(JSON.stringify(setPrivilegesPayload(polygon, { tokenId: 1n, privIds: [1n, 3n], user: ones, expires: 5n, nonce: 0n })));
    const grantVariants: ((p: any) => void)[] = [
      (p) => { p.message.privIds = '1,3'; },
      (p) => { p.message.privIds = ['1', '-3']; },
      (p) => { p.message.privIds = ['1', null]; },
      (p) => { p.types.SetPrivilegesSign[1].type = 'uint256'; },
    ];
    assert.ok(parsePayload(grant));
    assert.ok(parsePayload(good));
    for (const [base, mutations] of [[good, variants], [grant, grantVariants]] as const) {
      for (const mutate of mutations) {
        const p = structuredClone(base);
        mutate(p);
        assert.equal(parsePayload(p), null, JSON.stringify(p));
      }
    }
    assert.equal(parsePayload(null), null);
    assert.equal(parsePayload('{}'), null);
  });
});
