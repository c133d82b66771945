// The database's picture of the rows a batch of chain events touches (CHAIN.md §4): the indexer
// loads them into a `World` (keysOf says which), chain-effects.ts folds the events over it, and
// `diffWorld` lists the rows whose indexer-owned columns changed, with their before images (the
// batch's undo log).
import type { AftermarketDeviceRow, IntegrationRow, ManufacturerRow, PrivilegeRow, SyntheticDeviceRow, UserDeviceRow } from '../db/repositories/rows.ts';
import type { ChainEvent, NftKind } from './chain-events.ts';
import { normaliseSerial } from './serial.ts';

export type DeviceRow = AftermarketDeviceRow;
export type VehicleRow = UserDeviceRow;

export interface RowOf {
  device: DeviceRow;
  vehicle: VehicleRow;
  privilege: PrivilegeRow;
  synthetic: SyntheticDeviceRow;
  manufacturer: ManufacturerRow;
  integration: IntegrationRow;
}

export type TableName = keyof RowOf;

/** Every table, parents first: the order changes are listed (and written) in. */
export const TABLE_ORDER = ['manufacturer', 'integration', 'vehicle', 'device', 'synthetic', 'privilege'] as const satisfies readonly TableName[];

/** The columns the indexer owns per table; everything else belongs to the API and is never written back. */
export const INDEXED_COLUMNS = {
  device: ['address', 'manufacturerTokenId', 'manufacturerName', 'serial', 'ownerAddress', 'userId', 'beneficiaryAddress', 'vehicleTokenId'],
  vehicle: ['tokenId', 'ownerAddress', 'userId', 'vinConfirmed', 'mintRequestId'],
  privilege: ['expiry', 'updatedAt'],
  synthetic: ['tokenId', 'vehicleTokenId', 'integrationTokenId', 'userDeviceId'],
  manufacturer: ['name', 'ownerAddress'],
  integration: ['name'],
} as const satisfies { [T in TableName]: readonly (keyof RowOf[T])[] };

export const privilegeKey = (tokenId: bigint, privilege: number | bigint, user: string) => `${tokenId}|${privilege}|${user.toLowerCase()}`;

type Rows<T extends TableName> = Map<string, RowOf[T] | null>;

/**
 * Rows by primary key (string form); `null` = known not to exist. A key absent from a map was not
 * loaded and counts as absent.
 */
export function emptyWorld() {
  return {
    devices: new Map() as Rows<'device'>,
    /** serial → device token id, for the rows holding one of the batch's serials. */
    serialOwners: new Map<string, string>(),
    vehicles: new Map() as Rows<'vehicle'>,
    /** vehicle token id → user_devices id. */
    vehicleByToken: new Map<string, string>(),
    /** mint transaction hash (lower-case) → user_devices id of the request that sent it. */
    mintRequests: new Map<string, string>(),
    privileges: new Map() as Rows<'privilege'>,
    synthetics: new Map() as Rows<'synthetic'>,
    syntheticByToken: new Map<string, string>(),
    syntheticByAddress: new Map<string, string>(),
    manufacturers: new Map() as Rows<'manufacturer'>,
    integrations: new Map() as Rows<'integration'>,
    /** Integration names read from the registry (the mint event does not carry one). */
    integrationNames: new Map<string, string>(),
  };
}

export type World = ReturnType<typeof emptyWorld>;

/** Each table's row map in a World. */
export const WORLD_MAPS: { [T in TableName]: (w: World) => Rows<T> } = {
  device: (w) => w.devices,
  vehicle: (w) => w.vehicles,
  privilege: (w) => w.privileges,
  synthetic: (w) => w.synthetics,
  manufacturer: (w) => w.manufacturers,
  integration: (w) => w.integrations,
};

/** What the loader must fetch for a batch of events. */
function emptyKeys() {
  return {
    deviceTokens: new Set<bigint>(),
    serials: new Set<string>(),
    vehicleTokens: new Set<bigint>(),
    mintTxHashes: new Set<string>(),
    privilegeTokens: new Set<bigint>(),
    syntheticTokens: new Set<bigint>(),
    syntheticAddresses: new Set<string>(),
    manufacturerTokens: new Set<bigint>(),
    integrationTokens: new Set<bigint>(),
  };
}

export type WorldKeys = ReturnType<typeof emptyKeys>;

type TokenSet = 'deviceTokens' | 'vehicleTokens' | 'privilegeTokens' | 'syntheticTokens' | 'manufacturerTokens' | 'integrationTokens';

/** The row each event is about, by its tokenId (VehicleAttributeSet needs none; Transfer: by the NFT it moves). */
const ROW_OF_TOKEN = new Map<ChainEvent['kind'], TokenSet>(
  (
    [
      ['deviceTokens', ['DeviceMinted', 'DeviceAttributeSet', 'DeviceClaimed', 'DeviceUnclaimed', 'DevicePaired', 'DeviceUnpaired']],
      ['vehicleTokens', ['VehicleMinted']],
      ['syntheticTokens', ['SyntheticMinted', 'SyntheticBurned']],
      ['privilegeTokens', ['PrivilegeSet']],
      ['manufacturerTokens', ['ManufacturerMinted']],
      ['integrationTokens', ['IntegrationMinted']],
    ] as const
  ).flatMap(([set, kinds]) => kinds.map((kind) => [kind, set] as const)),
);

/** A transfer reads the moved NFT's row (a vehicle's privileges end with it); other NFTs' transfers change nothing. */
const TRANSFERRED: Partial<Record<NftKind, TokenSet[]>> = { vehicle: ['vehicleTokens', 'privilegeTokens'], device: ['deviceTokens'], manufacturer: ['manufacturerTokens'] };

export function keysOf(events: readonly ChainEvent[]): WorldKeys {
  const k = emptyKeys();
  for (const e of events) {
    const sets = e.kind === 'Transfer' ? (TRANSFERRED[e.nft] ?? []) : [ROW_OF_TOKEN.get(e.kind)];
    for (const set of sets) if (set) k[set].add(e.tokenId);
    // What an event reads besides its token's row.
    if (e.kind === 'DeviceMinted') k.manufacturerTokens.add(e.manufacturerTokenId);
    else if (e.kind === 'DeviceAttributeSet') {
      const serial = e.attribute === 'Serial' ? normaliseSerial(e.info) : null;
      if (serial) k.serials.add(serial);
    } else if (e.kind === 'VehicleMinted') k.mintTxHashes.add(e.txHash.toLowerCase());
    else if (e.kind === 'SyntheticMinted') {
      k.syntheticAddresses.add(e.address);
      k.vehicleTokens.add(e.vehicleTokenId);
    }
  }
  return k;
}

export type Touched = { [T in TableName]: Set<string> };

export function noneTouched(): Touched {
  return { device: new Set(), vehicle: new Set(), privilege: new Set(), synthetic: new Set(), manufacturer: new Set(), integration: new Set() };
}

/** One changed row: its table, key and image before (null = did not exist) and after (null = deleted). */
export interface RowChange<T extends TableName = TableName> {
  table: T;
  key: string;
  before: RowOf[T] | null;
  after: RowOf[T] | null;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return a === b;
}

/** True when the indexer-owned columns of the two images agree (both absent counts as equal). */
export function sameIndexedState<T extends TableName>(table: T, a: RowOf[T] | null, b: RowOf[T] | null): boolean {
  if (a === null || b === null) return a === b;
  return (INDEXED_COLUMNS[table] as readonly string[]).every((c) => sameValue((a as Record<string, unknown>)[c], (b as Record<string, unknown>)[c]));
}

export type RowSnapshot = { [T in TableName]: Rows<T> };

/** Shallow copies of the row maps: the "before" images, taken before `applyEvents`. */
export function snapshotRows(world: World): RowSnapshot {
  const copy = <T extends TableName>(table: T): Rows<T> => new Map(WORLD_MAPS[table](world));
  return {
    device: copy('device'),
    vehicle: copy('vehicle'),
    privilege: copy('privilege'),
    synthetic: copy('synthetic'),
    manufacturer: copy('manufacturer'),
    integration: copy('integration'),
  };
}

/** The touched rows whose indexer-owned state differs from the snapshot. */
export function diffWorld(before: RowSnapshot, world: World, touched: Touched): RowChange[] {
  const out: RowChange[] = [];
  const collect = <T extends TableName>(table: T) => {
    const after = WORLD_MAPS[table](world);
    for (const key of touched[table]) {
      const b = before[table].get(key) ?? null;
      const a = after.get(key) ?? null;
      if (!sameIndexedState(table, b, a)) out.push({ table, key, before: b, after: a });
    }
  };
  for (const table of TABLE_ORDER) collect(table);
  return out;
}
