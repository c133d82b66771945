// Log decoding and the pure event → state mapping the indexer applies (no chain, no database).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeAbiParameters, pad, toEventSelector, type AbiEvent, type Hex } from 'viem';
import { dimoRegistryAbi, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { createLogDecoder, type ChainEvent, type ContractAddresses, type RawLog } from '../../src/domain/chain-events.ts';
import { MAX_EXPIRY, applyEvents } from '../../src/domain/chain-effects.ts';
import { diffWorld, emptyWorld, keysOf, privilegeKey, snapshotRows, type VehicleRow, type World } from '../../src/domain/chain-world.ts';

const A: ContractAddresses = {
  registry: '0x00000000000000000000000000000000000000a1',
  vehicleId: '0x00000000000000000000000000000000000000a2',
  aftermarketDeviceId: '0x00000000000000000000000000000000000000a3',
  syntheticDeviceId: '0x00000000000000000000000000000000000000a4',
  manufacturerId: '0x00000000000000000000000000000000000000a5',
  integrationId: '0x00000000000000000000000000000000000000a6',
};
const decodeLogs = createLogDecoder({ registry: dimoRegistryAbi, nodeNft: nodeNftAbi });
const ALICE = '0x1111111111111111111111111111111111111111';
const BOB = '0x2222222222222222222222222222222222222222';
const ZERO = '0x0000000000000000000000000000000000000000';

const eventOf = (abi: readonly unknown[], name: string) => (abi as AbiEvent[]).find((e) => e.type === 'event' && e.name === name)!;
const word = (v: bigint | string) => pad(typeof v === 'bigint' ? `0x${v.toString(16)}` : (v as Hex));

function rawLog(address: string, abi: readonly unknown[], name: string, indexed: (bigint | string)[], data: { types: { type: string }[]; values: unknown[] }, block = 1, index = 0): RawLog {
  return {
    address,
    topics: [toEventSelector(eventOf(abi, name)), ...indexed.map(word)],
    data: data.types.length ? encodeAbiParameters(data.types, data.values) : '0x',
    blockNumber: `0x${block.toString(16)}`,
    blockHash: pad(`0x${block.toString(16)}`),
    transactionHash: pad(`0xbeef${block.toString(16)}`),
    logIndex: `0x${index.toString(16)}`,
    blockTimestamp: '0x64000000',
  };
}

const privilegeSet = (address: string, token: bigint, priv: bigint, user: string, expires: bigint, block = 1, index = 0) =>
  rawLog(address, nodeNftAbi, 'PrivilegeSet', [token, priv, user], { types: [{ type: 'uint256' }, { type: 'uint256' }], values: [0n, expires] }, block, index);

describe('decodeLogs', () => {
  it('decodes registry events with indexed and string arguments, addresses lower-case', () => {
    const logs = [
      rawLog(A.registry, dimoRegistryAbi, 'AftermarketDeviceNodeMinted', [7n, ALICE.toUpperCase().replace('0X', '0x'), BOB], { types: [{ type: 'uint256' }], values: [42n] }),
      rawLog(A.registry, dimoRegistryAbi, 'AftermarketDeviceAttributeSet', [], { types: [{ type: 'uint256' }, { type: 'string' }, { type: 'string' }], values: [42n, 'Serial', 'SN-1'] }, 1, 1),
    ];
    const { events, undecodable } = decodeLogs(logs, A);
    assert.equal(undecodable, 0);
    assert.deepEqual(
      events.map(({ blockHash: _h, txHash: _t, blockTime: _b, ...rest }) => rest),
      [
        { blockNumber: 1n, logIndex: 0, kind: 'DeviceMinted', tokenId: 42n, manufacturerTokenId: 7n, address: ALICE, owner: BOB },
        { blockNumber: 1n, logIndex: 1, kind: 'DeviceAttributeSet', tokenId: 42n, attribute: 'Serial', info: 'SN-1' },
      ],
    );
    assert.equal(events[0]?.blockTime?.toISOString(), new Date(0x64000000 * 1000).toISOString());
  });

  it('takes registry events only from the registry, Transfer only from node NFTs, PrivilegeSet only from the vehicle NFT', () => {
    const forged = rawLog(A.vehicleId, dimoRegistryAbi, 'AftermarketDeviceClaimed', [ALICE], { types: [{ type: 'uint256' }], values: [1n] });
    const transferFromRegistry = rawLog(A.registry, nodeNftAbi, 'Transfer', [ALICE, BOB, 1n], { types: [], values: [] });
    const manufacturerPrivilege = privilegeSet(A.manufacturerId, 1n, 1n, BOB, 10n);
    const vehiclePrivilege = privilegeSet(A.vehicleId, 1n, 1n, BOB, 10n);
    const transfer = rawLog(A.aftermarketDeviceId, nodeNftAbi, 'Transfer', [ALICE, BOB, 9n], { types: [], values: [] });
    const { events } = decodeLogs([forged, transferFromRegistry, manufacturerPrivilege, vehiclePrivilege, transfer], A);
    assert.deepEqual(events.map((e) => e.kind), ['PrivilegeSet', 'Transfer']);
    assert.equal((events[1] as Extract<ChainEvent, { kind: 'Transfer' }>).nft, 'device');
  });

  it('counts logs whose layout does not match (same topic0, wrong topic count) and skips removed ones', () => {
    const bad = rawLog(A.registry, dimoRegistryAbi, 'AftermarketDeviceUnpaired', [1n, 2n, ALICE], { types: [], values: [] });
    const removed = { ...privilegeSet(A.vehicleId, 1n, 1n, BOB, 10n), removed: true };
    const { events, undecodable } = decodeLogs([bad, removed], A);
    assert.deepEqual(events, []);
    assert.equal(undecodable, 1);
  });

  it('returns events in chain order whatever order the node sent', () => {
    const logs = [privilegeSet(A.vehicleId, 1n, 2n, BOB, 10n, 2, 0), privilegeSet(A.vehicleId, 1n, 1n, BOB, 10n, 1, 3), privilegeSet(A.vehicleId, 1n, 3n, BOB, 10n, 1, 1)];
    assert.deepEqual(decodeLogs(logs, A).events.map((e) => [e.blockNumber, e.logIndex]), [[1n, 1], [1n, 3], [2n, 0]]);
  });
});

// ----- applyEvents ------------------------------------------------------------------------------

let seq = 0;
const at = (kind: ChainEvent['kind'], fields: Record<string, unknown>, txHash: Hex = '0xaa'): ChainEvent =>
  ({ blockNumber: 1n, logIndex: seq++, txHash, blockHash: '0xbb', blockTime: new Date('2030-01-01T00:00:00Z'), kind, ...fields }) as unknown as ChainEvent;
const opts = () => {
  let n = 0;
  return { newId: () => `id${++n}`.padEnd(27, '0'), now: new Date('2030-01-02T00:00:00Z') };
};

function run(world: World, events: ChainEvent[]) {
  const before = snapshotRows(world);
  const result = applyEvents(world, events, opts());
  return { ...result, changes: diffWorld(before, world, result.touched) };
}

function userVehicle(id: string, fields: Partial<VehicleRow> = {}): VehicleRow {
  return {
    id,
    userId: 'user-1',
    definitionId: 'ford_bronco_2021',
    definition: { id: 'ford_bronco_2021', name: '2021 Ford Bronco', make: { id: 'ford', name: 'Ford' }, model: 'Bronco', year: 2021, attributes: [], verified: true },
    vin: null,
    vinConfirmed: false,
    name: null,
    customImageUrl: null,
    countryCode: 'USA',
    metadata: {},
    tokenId: null,
    ownerAddress: null,
    mintRequestId: 'req',
    burnRequestId: null,
    optedInAt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

describe('applyEvents', () => {
  it('applying the same events to the state they produced changes nothing', () => {
    const world = emptyWorld();
    const events = [
      at('ManufacturerMinted', { tokenId: 1n, name: 'AutoPi', owner: ALICE }),
      at('DeviceMinted', { tokenId: 5n, manufacturerTokenId: 1n, address: BOB, owner: ALICE }),
      at('DeviceAttributeSet', { tokenId: 5n, attribute: 'Serial', info: ' SN-5 ' }),
      at('VehicleMinted', { tokenId: 3n, manufacturerTokenId: 2n, owner: ALICE, deviceDefinitionId: 'ford_bronco_2021' }),
      at('VehicleAttributeSet', { tokenId: 3n, attribute: 'Make', info: 'Ford' }),
      at('PrivilegeSet', { tokenId: 3n, privilege: 1n, user: BOB, expires: 2_000_000_000n }),
      at('DeviceClaimed', { tokenId: 5n, owner: ALICE }),
      at('DevicePaired', { tokenId: 5n, vehicleTokenId: 3n }),
    ];
    const first = run(world, events);
    assert.equal(first.warnings.length, 0, first.warnings.join('; '));
    assert.equal(first.changes.length, 4, "manufacturer, device, vehicle, privilege");
    assert.equal(world.devices.get('5')?.serial, 'SN-5');
    assert.equal(world.devices.get('5')?.manufacturerName, 'AutoPi');
    assert.equal(run(world, events).changes.length, 0);
  });

  it('matches a vehicle mint to its request by transaction hash, else creates a wallet-owned record', () => {
    const world = emptyWorld();
    world.vehicles.set('v1', userVehicle('v1'));
    world.mintRequests.set('0xaa', 'v1');
    const { changes } = run(world, [
      at('VehicleMinted', { tokenId: 3n, manufacturerTokenId: 2n, owner: ALICE, deviceDefinitionId: 'ford_bronco_2021' }, '0xaa'),
      at('VehicleMinted', { tokenId: 4n, manufacturerTokenId: 2n, owner: BOB, deviceDefinitionId: 'tesla_model-3_2019' }, '0xcc'),
      at('VehicleAttributeSet', { tokenId: 4n, attribute: 'Make', info: 'Tesla' }, '0xcc'),
      at('VehicleAttributeSet', { tokenId: 4n, attribute: 'Model', info: 'Model 3' }, '0xcc'),
      at('VehicleAttributeSet', { tokenId: 4n, attribute: 'Year', info: '2019' }, '0xcc'),
    ]);
    assert.equal(changes.length, 2);
    const mine = world.vehicles.get('v1')!;
    assert.deepEqual([mine.tokenId, mine.ownerAddress, mine.vinConfirmed, mine.userId], [3n, ALICE, true, 'user-1']);
    const foreign = [...world.vehicles.values()].find((v) => v?.tokenId === 4n)!;
    assert.equal(foreign.userId, `address:${BOB}`);
    assert.deepEqual(foreign.definition.make, { id: 'tesla', name: 'Tesla' });
    assert.equal(foreign.definition.name, '2019 Tesla Model 3');
  });

  it('a vehicle transfer moves it to the new owner and clears every privilege on it; a burn unmints it', () => {
    const world = emptyWorld();
    world.vehicles.set('v1', userVehicle('v1', { tokenId: 3n, ownerAddress: ALICE }));
    world.vehicleByToken.set('3', 'v1');
    world.privileges.set(privilegeKey(3n, 1, BOB), { tokenId: 3n, privilege: 1, userAddress: BOB, expiry: new Date('2031-01-01'), updatedAt: new Date(0) });
    run(world, [
      at('PrivilegeSet', { tokenId: 3n, privilege: 4n, user: BOB, expires: 2_000_000_000n }),
      at('Transfer', { nft: 'vehicle', tokenId: 3n, from: ALICE, to: BOB }),
    ]);
    assert.equal(world.vehicles.get('v1')?.ownerAddress, BOB);
    assert.equal(world.vehicles.get('v1')?.userId, `address:${BOB}`);
    assert.deepEqual([...world.privileges.values()].filter(Boolean), []);

    run(world, [at('Transfer', { nft: 'vehicle', tokenId: 3n, from: BOB, to: ZERO })]);
    assert.equal(world.vehicles.get('v1'), null, 'a record no login owns goes with the burned NFT');
  });

  it("keeps a registered user's record when the vehicle is burned, unminted and free to mint again", () => {
    const world = emptyWorld();
    world.vehicles.set('v1', userVehicle('v1', { tokenId: 3n, ownerAddress: ALICE, vinConfirmed: true }));
    world.vehicleByToken.set('3', 'v1');
    run(world, [at('Transfer', { nft: 'vehicle', tokenId: 3n, from: ALICE, to: ZERO })]);
    const row = world.vehicles.get('v1')!;
    assert.deepEqual([row.tokenId, row.ownerAddress, row.vinConfirmed, row.mintRequestId], [null, null, false, null]);
  });

  it('a device transfer changes owner only once claimed; a serial is set once and never shared', () => {
    const world = emptyWorld();
    // The devices as their mint leaves them (the code under test builds the rows), then #2 claimed with a serial.
    run(world, [
      at('DeviceMinted', { tokenId: 1n, manufacturerTokenId: 1n, address: `0x${'1'.padStart(40, '0')}`, owner: ALICE }),
      at('DeviceMinted', { tokenId: 2n, manufacturerTokenId: 1n, address: `0x${'2'.padStart(40, '0')}`, owner: ALICE }),
    ]);
    world.devices.set('2', { ...world.devices.get('2')!, serial: 'TAKEN', ownerAddress: ALICE, userId: 'alice' });
    world.serialOwners.set('TAKEN', '2');
    const { warnings } = run(world, [
      at('Transfer', { nft: 'device', tokenId: 1n, from: ALICE, to: BOB }),
      at('DeviceAttributeSet', { tokenId: 1n, attribute: 'Serial', info: 'TAKEN' }),
      at('DeviceAttributeSet', { tokenId: 2n, attribute: 'Serial', info: 'OTHER' }),
      at('Transfer', { nft: 'device', tokenId: 2n, from: ALICE, to: BOB }),
    ]);
    assert.equal(world.devices.get('1')?.ownerAddress, null, 'unclaimed: the manufacturer moving it is not an owner');
    assert.equal(world.devices.get('1')?.serial, null);
    assert.equal(world.devices.get('2')?.serial, 'TAKEN');
    assert.deepEqual([world.devices.get('2')?.ownerAddress, world.devices.get('2')?.userId], [BOB, null]);
    assert.equal(warnings.length, 2);
  });

  it('clamps a "never expires" grant and keeps revocations as past expiries', () => {
    const world = emptyWorld();
    run(world, [
      at('PrivilegeSet', { tokenId: 3n, privilege: 1n, user: BOB, expires: 2n ** 256n - 1n }),
      at('PrivilegeSet', { tokenId: 3n, privilege: 2n, user: BOB, expires: 0n }),
      at('PrivilegeSet', { tokenId: 3n, privilege: 2n ** 40n, user: BOB, expires: 5n }),
    ]);
    assert.equal(world.privileges.get(privilegeKey(3n, 1, BOB))?.expiry.getTime(), MAX_EXPIRY.getTime());
    assert.equal(world.privileges.get(privilegeKey(3n, 2, BOB))?.expiry.getTime(), 0);
    assert.equal(world.privileges.size, 2, 'a privilege id beyond the column range is skipped');
  });

  it('names what the loader must fetch', () => {
    const k = keysOf([
      at('DeviceAttributeSet', { tokenId: 5n, attribute: 'Serial', info: ' A1B2C3D4-0000-4000-8000-00000000ABCD ' }),
      at('VehicleMinted', { tokenId: 3n, manufacturerTokenId: 2n, owner: ALICE, deviceDefinitionId: 'x_y_2020' }, '0xAB'),
      at('Transfer', { nft: 'vehicle', tokenId: 8n, from: ALICE, to: BOB }),
    ]);
    assert.deepEqual([...k.serials], ['a1b2c3d4-0000-4000-8000-00000000abcd']);
    assert.deepEqual([...k.vehicleTokens], [3n, 8n]);
    assert.deepEqual([...k.privilegeTokens], [8n]);
    assert.deepEqual([...k.mintTxHashes], ['0xab']);
  });
});
