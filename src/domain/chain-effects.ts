// What chain events do to the database's picture of the world (CHAIN.md §4), as a pure function:
// the indexer loads the rows a batch of events touches into a `World`, `applyEvents` folds the
// events over it in chain order (copy-on-write, so the loaded rows stay the "before" images),
// and `diffWorld` lists the rows whose indexer-owned columns changed, with their before images
// (the batch's undo log). Applying the same events to the state they produced changes nothing.
import type {
  DefinitionSnapshot,
  aftermarketDevices,
  integrations,
  manufacturers,
  nftPrivileges,
  syntheticDevices,
  userDevices,
} from '../db/schema.ts';
import type { ChainEvent } from './chain-events.ts';
import { ZERO_ADDRESS } from './chain-events.ts';
import { normaliseSerial } from './serial.ts';
import { slugPart } from './definition-id.ts';

export type DeviceRow = typeof aftermarketDevices.$inferSelect;
export type VehicleRow = typeof userDevices.$inferSelect;
export type PrivilegeRow = typeof nftPrivileges.$inferSelect;
export type SyntheticRow = typeof syntheticDevices.$inferSelect;
export type ManufacturerRow = typeof manufacturers.$inferSelect;
export type IntegrationRow = typeof integrations.$inferSelect;

/**
 * Vehicles minted (or received) outside this service belong to no login; their `user_id` is
 * `address:<lower-case owner>`, so only the owner's wallet (`ownerAddress`) reaches them. The
 * original API used a base64 web3 id for the same purpose.
 */
export const CHAIN_OWNER_PREFIX = 'address:';
export const chainOwnerUserId = (address: string) => `${CHAIN_OWNER_PREFIX}${address.toLowerCase()}`;

/** Wallet index of synthetic devices minted elsewhere (their wallet is not derived here). */
export const FOREIGN_WALLET_INDEX = -1;

/** Latest instant PostgreSQL and JS both hold; "never expires" grants (huge uint256) clamp to it. */
export const MAX_EXPIRY = new Date('9999-12-31T23:59:59.000Z');
const MAX_PRIVILEGE_ID = 2n ** 31n - 1n;

export type TableName = 'device' | 'vehicle' | 'privilege' | 'synthetic' | 'manufacturer' | 'integration';

export interface RowOf {
  device: DeviceRow;
  vehicle: VehicleRow;
  privilege: PrivilegeRow;
  synthetic: SyntheticRow;
  manufacturer: ManufacturerRow;
  integration: IntegrationRow;
}

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

/** Rows by primary key (string form); `null` = known not to exist. A key absent from a map was not loaded and counts as absent. */
export interface World {
  devices: Map<string, DeviceRow | null>;
  /** serial → device token id, for the rows holding one of the batch's serials. */
  serialOwners: Map<string, string>;
  vehicles: Map<string, VehicleRow | null>;
  /** vehicle token id → user_devices id. */
  vehicleByToken: Map<string, string>;
  /** mint transaction hash (lower-case) → user_devices id of the request that sent it. */
  mintRequests: Map<string, string>;
  privileges: Map<string, PrivilegeRow | null>;
  synthetics: Map<string, SyntheticRow | null>;
  syntheticByToken: Map<string, string>;
  syntheticByAddress: Map<string, string>;
  manufacturers: Map<string, ManufacturerRow | null>;
  integrations: Map<string, IntegrationRow | null>;
  /** Integration names read from the registry (the mint event does not carry one). */
  integrationNames: Map<string, string>;
}

export function emptyWorld(): World {
  return {
    devices: new Map(),
    serialOwners: new Map(),
    vehicles: new Map(),
    vehicleByToken: new Map(),
    mintRequests: new Map(),
    privileges: new Map(),
    synthetics: new Map(),
    syntheticByToken: new Map(),
    syntheticByAddress: new Map(),
    manufacturers: new Map(),
    integrations: new Map(),
    integrationNames: new Map(),
  };
}

/** What the loader must fetch for a batch of events. */
export interface WorldKeys {
  deviceTokens: Set<bigint>;
  serials: Set<string>;
  vehicleTokens: Set<bigint>;
  mintTxHashes: Set<string>;
  privilegeTokens: Set<bigint>;
  syntheticTokens: Set<bigint>;
  syntheticAddresses: Set<string>;
  manufacturerTokens: Set<bigint>;
  integrationTokens: Set<bigint>;
}

export function keysOf(events: readonly ChainEvent[]): WorldKeys {
  const k: WorldKeys = {
    deviceTokens: new Set(),
    serials: new Set(),
    vehicleTokens: new Set(),
    mintTxHashes: new Set(),
    privilegeTokens: new Set(),
    syntheticTokens: new Set(),
    syntheticAddresses: new Set(),
    manufacturerTokens: new Set(),
    integrationTokens: new Set(),
  };
  for (const e of events) {
    switch (e.kind) {
      case 'DeviceMinted':
        k.deviceTokens.add(e.tokenId);
        k.manufacturerTokens.add(e.manufacturerTokenId);
        break;
      case 'DeviceAttributeSet': {
        k.deviceTokens.add(e.tokenId);
        const serial = e.attribute === 'Serial' ? normaliseSerial(e.info) : null;
        if (serial) k.serials.add(serial);
        break;
      }
      case 'DeviceClaimed':
      case 'DeviceUnclaimed':
      case 'DevicePaired':
      case 'DeviceUnpaired':
        k.deviceTokens.add(e.tokenId);
        break;
      case 'VehicleMinted':
        k.vehicleTokens.add(e.tokenId);
        k.mintTxHashes.add(e.txHash.toLowerCase());
        break;
      case 'VehicleAttributeSet':
        break;
      case 'PrivilegeSet':
        k.privilegeTokens.add(e.tokenId);
        break;
      case 'SyntheticMinted':
        k.syntheticTokens.add(e.tokenId);
        k.syntheticAddresses.add(e.address);
        k.vehicleTokens.add(e.vehicleTokenId);
        break;
      case 'SyntheticBurned':
        k.syntheticTokens.add(e.tokenId);
        break;
      case 'ManufacturerMinted':
        k.manufacturerTokens.add(e.tokenId);
        break;
      case 'IntegrationMinted':
        k.integrationTokens.add(e.tokenId);
        break;
      case 'Transfer':
        if (e.nft === 'vehicle') {
          k.vehicleTokens.add(e.tokenId);
          k.privilegeTokens.add(e.tokenId);
        } else if (e.nft === 'device') k.deviceTokens.add(e.tokenId);
        else if (e.nft === 'manufacturer') k.manufacturerTokens.add(e.tokenId);
        break;
    }
  }
  return k;
}

export interface ApplyOptions {
  /** New row ids (vehicles and synthetic devices minted elsewhere). */
  newId: () => string;
  /** Wall clock, for created_at of new rows and for updated_at when the node gives no block time. */
  now: Date;
}

export type Touched = { [T in TableName]: Set<string> };

export interface ApplyResult {
  touched: Touched;
  /** Events that could not be applied as they stand (unknown device, duplicate serial, …). */
  warnings: string[];
}

/** A vehicle record for a vehicle minted outside this service, from the mint event (and, once seen, its Make/Model/Year). */
export function chainDefinitionSnapshot(deviceDefinitionId: string, attrs: { make?: string; model?: string; year?: string } = {}): DefinitionSnapshot {
  const [makeSlug = '', modelSlug = '', yearText = ''] = deviceDefinitionId.split('_');
  const make = attrs.make ?? makeSlug;
  const model = attrs.model ?? modelSlug;
  const parsedYear = Number.parseInt(attrs.year ?? yearText, 10);
  const year = Number.isSafeInteger(parsedYear) ? parsedYear : 0;
  return {
    id: deviceDefinitionId,
    name: [year || '', make, model].filter((p) => p !== '').join(' '),
    make: { id: slugPart(make) || makeSlug, name: make },
    model,
    year,
    attributes: [],
    verified: false,
  };
}

/**
 * Applies `events` (chain order) to `world`, replacing rows rather than mutating them, so the
 * maps' previous values stay valid "before" images for whoever copied the maps first.
 */
export function applyEvents(world: World, events: readonly ChainEvent[], opts: ApplyOptions): ApplyResult {
  const touched: Touched = {
    device: new Set(),
    vehicle: new Set(),
    privilege: new Set(),
    synthetic: new Set(),
    manufacturer: new Set(),
    integration: new Set(),
  };
  const warnings: string[] = [];
  // Vehicles created from a mint event in this batch: their Make/Model/Year attributes follow it.
  const createdVehicles = new Map<string, { ddId: string; attrs: { make?: string; model?: string; year?: string } }>();
  // Privilege keys per token, to clear a vehicle's grants on transfer.
  const privilegesByToken = new Map<string, Set<string>>();
  for (const [key, row] of world.privileges) {
    if (!row) continue;
    const token = key.slice(0, key.indexOf('|'));
    let set = privilegesByToken.get(token);
    if (!set) privilegesByToken.set(token, (set = new Set()));
    set.add(key);
  }

  const put = <T extends TableName>(table: T, map: Map<string, RowOf[T] | null>, key: string, row: RowOf[T] | null) => {
    map.set(key, row);
    touched[table].add(key);
  };
  const patchDevice = (tokenId: bigint, patch: Partial<DeviceRow>, what: string) => {
    const key = tokenId.toString();
    const row = world.devices.get(key);
    if (!row) {
      warnings.push(`${what}: aftermarket device ${key} is not indexed`);
      return;
    }
    put('device', world.devices, key, { ...row, ...patch });
  };
  const vehicleFor = (tokenId: bigint): VehicleRow | null => {
    const id = world.vehicleByToken.get(tokenId.toString());
    return id ? (world.vehicles.get(id) ?? null) : null;
  };
  const clearPrivileges = (tokenId: bigint) => {
    const token = tokenId.toString();
    for (const key of privilegesByToken.get(token) ?? []) put('privilege', world.privileges, key, null);
    privilegesByToken.delete(token);
  };

  for (const e of events) {
    const time = e.blockTime ?? opts.now;
    switch (e.kind) {
      case 'ManufacturerMinted': {
        const key = e.tokenId.toString();
        const row = world.manufacturers.get(key);
        put('manufacturer', world.manufacturers, key, row ? { ...row, name: e.name, ownerAddress: e.owner } : { tokenId: e.tokenId, name: e.name, ownerAddress: e.owner, createdAt: opts.now });
        break;
      }
      case 'IntegrationMinted': {
        const key = e.tokenId.toString();
        const name = world.integrationNames.get(key) ?? `Integration ${key}`;
        const row = world.integrations.get(key);
        put('integration', world.integrations, key, row ? { ...row, name } : { tokenId: e.tokenId, name, createdAt: opts.now });
        break;
      }
      case 'DeviceMinted': {
        const key = e.tokenId.toString();
        const row = world.devices.get(key);
        const manufacturerName = world.manufacturers.get(e.manufacturerTokenId.toString())?.name ?? null;
        const minted = { address: e.address, manufacturerTokenId: e.manufacturerTokenId, manufacturerName };
        put(
          'device',
          world.devices,
          key,
          row
            ? { ...row, ...minted }
            : {
                tokenId: e.tokenId,
                serial: null,
                ...minted,
                ownerAddress: null,
                beneficiaryAddress: null,
                userId: null,
                vehicleTokenId: null,
                claimRequestId: null,
                pairRequestId: null,
                unpairRequestId: null,
                firmwareVersion: null,
                lastSeenAt: null,
                createdAt: opts.now,
                updatedAt: opts.now,
              },
        );
        break;
      }
      case 'DeviceAttributeSet': {
        if (e.attribute !== 'Serial') break;
        const key = e.tokenId.toString();
        const serial = normaliseSerial(e.info);
        const row = world.devices.get(key);
        if (!row) warnings.push(`Serial of aftermarket device ${key}: device is not indexed`);
        else if (serial === null) warnings.push(`Serial of aftermarket device ${key} is not a usable serial: ${JSON.stringify(e.info.slice(0, 80))}`);
        else if (row.serial !== null) {
          // A serial is set once, at mint; a later different value is reported, not applied.
          if (row.serial !== serial) warnings.push(`aftermarket device ${key} already has serial ${row.serial}; ignored ${serial}`);
        } else {
          const holder = world.serialOwners.get(serial);
          if (holder !== undefined && holder !== key) warnings.push(`serial ${serial} of aftermarket device ${key} already belongs to device ${holder}; not set`);
          else {
            world.serialOwners.set(serial, key);
            put('device', world.devices, key, { ...row, serial });
          }
        }
        break;
      }
      case 'DeviceClaimed':
        patchDevice(e.tokenId, { ownerAddress: e.owner }, 'claim');
        break;
      case 'DeviceUnclaimed':
        patchDevice(e.tokenId, { ownerAddress: null, userId: null, beneficiaryAddress: null }, 'unclaim');
        break;
      case 'DevicePaired':
        patchDevice(e.tokenId, { vehicleTokenId: e.vehicleTokenId }, 'pair');
        break;
      case 'DeviceUnpaired':
        patchDevice(e.tokenId, { vehicleTokenId: null }, 'unpair');
        break;
      case 'VehicleMinted': {
        const token = e.tokenId.toString();
        const requestDevice = world.mintRequests.get(e.txHash.toLowerCase());
        const id = world.vehicleByToken.get(token) ?? (requestDevice && world.vehicles.get(requestDevice) ? requestDevice : undefined);
        const minted = { tokenId: e.tokenId, ownerAddress: e.owner, vinConfirmed: true };
        if (id) {
          const row = world.vehicles.get(id)!;
          if (row.tokenId !== null && row.tokenId !== e.tokenId) world.vehicleByToken.delete(row.tokenId.toString());
          put('vehicle', world.vehicles, id, { ...row, ...minted });
          world.vehicleByToken.set(token, id);
        } else {
          const newId = opts.newId();
          const definition = chainDefinitionSnapshot(e.deviceDefinitionId);
          put('vehicle', world.vehicles, newId, {
            id: newId,
            userId: chainOwnerUserId(e.owner),
            definitionId: e.deviceDefinitionId,
            definition,
            vin: null,
            name: null,
            customImageUrl: null,
            countryCode: '',
            metadata: {},
            mintRequestId: null,
            burnRequestId: null,
            optedInAt: null,
            createdAt: opts.now,
            updatedAt: opts.now,
            ...minted,
          });
          world.vehicleByToken.set(token, newId);
          createdVehicles.set(newId, { ddId: e.deviceDefinitionId, attrs: {} });
        }
        break;
      }
      case 'VehicleAttributeSet': {
        const id = world.vehicleByToken.get(e.tokenId.toString());
        const created = id ? createdVehicles.get(id) : undefined;
        const field = ({ Make: 'make', Model: 'model', Year: 'year' } as const)[e.attribute as 'Make' | 'Model' | 'Year'];
        if (!id || !created || !field) break;
        created.attrs[field] = e.info;
        const row = world.vehicles.get(id)!;
        put('vehicle', world.vehicles, id, { ...row, definition: chainDefinitionSnapshot(created.ddId, created.attrs) });
        break;
      }
      case 'PrivilegeSet': {
        if (e.privilege > MAX_PRIVILEGE_ID) {
          warnings.push(`privilege id ${e.privilege} on vehicle ${e.tokenId} is out of range; ignored`);
          break;
        }
        const key = privilegeKey(e.tokenId, e.privilege, e.user);
        const expiry = e.expires * 1000n >= BigInt(MAX_EXPIRY.getTime()) ? MAX_EXPIRY : new Date(Number(e.expires) * 1000);
        const row = world.privileges.get(key);
        if (row && row.expiry.getTime() === expiry.getTime()) break;
        put('privilege', world.privileges, key, { tokenId: e.tokenId, privilege: Number(e.privilege), userAddress: e.user, expiry, updatedAt: time });
        const token = e.tokenId.toString();
        let set = privilegesByToken.get(token);
        if (!set) privilegesByToken.set(token, (set = new Set()));
        set.add(key);
        break;
      }
      case 'SyntheticMinted': {
        const token = e.tokenId.toString();
        const id = world.syntheticByToken.get(token) ?? world.syntheticByAddress.get(e.address);
        const row = id ? world.synthetics.get(id) : null;
        const userDeviceId = vehicleFor(e.vehicleTokenId)?.id ?? row?.userDeviceId ?? null;
        const minted = { tokenId: e.tokenId, vehicleTokenId: e.vehicleTokenId, integrationTokenId: e.integrationTokenId, userDeviceId };
        if (id && row) put('synthetic', world.synthetics, id, { ...row, ...minted });
        else {
          const newId = opts.newId();
          put('synthetic', world.synthetics, newId, {
            id: newId,
            walletChildIndex: FOREIGN_WALLET_INDEX,
            address: e.address,
            mintRequestId: null,
            createdAt: opts.now,
            updatedAt: opts.now,
            ...minted,
          });
          world.syntheticByAddress.set(e.address, newId);
        }
        world.syntheticByToken.set(token, id ?? world.syntheticByAddress.get(e.address)!);
        break;
      }
      case 'SyntheticBurned': {
        const token = e.tokenId.toString();
        const id = world.syntheticByToken.get(token);
        if (!id || !world.synthetics.get(id)) break;
        put('synthetic', world.synthetics, id, null);
        world.syntheticByToken.delete(token);
        break;
      }
      case 'Transfer': {
        if (e.from === ZERO_ADDRESS) break; // mints: the mint events carry what matters
        const burned = e.to === ZERO_ADDRESS;
        if (e.nft === 'vehicle') {
          clearPrivileges(e.tokenId);
          const row = vehicleFor(e.tokenId);
          if (!row) break;
          if (!burned) put('vehicle', world.vehicles, row.id, { ...row, ownerAddress: e.to, userId: chainOwnerUserId(e.to) });
          else {
            world.vehicleByToken.delete(e.tokenId.toString());
            // A record nobody's login owns goes with its NFT; a user's record stays, unminted.
            if (row.userId.startsWith(CHAIN_OWNER_PREFIX)) put('vehicle', world.vehicles, row.id, null);
            else put('vehicle', world.vehicles, row.id, { ...row, tokenId: null, ownerAddress: null, vinConfirmed: false, mintRequestId: null });
          }
        } else if (e.nft === 'device') {
          const key = e.tokenId.toString();
          const row = world.devices.get(key);
          if (!row) break;
          if (burned) {
            if (row.serial !== null) world.serialOwners.delete(row.serial);
            put('device', world.devices, key, null);
          } else if (row.ownerAddress !== null) {
            // Claimed devices change hands; before the claim the holder is the manufacturer.
            put('device', world.devices, key, { ...row, ownerAddress: e.to, userId: null, beneficiaryAddress: null });
          }
        } else if (e.nft === 'manufacturer' && !burned) {
          const key = e.tokenId.toString();
          const row = world.manufacturers.get(key);
          if (row) put('manufacturer', world.manufacturers, key, { ...row, ownerAddress: e.to });
        }
        break;
      }
    }
  }
  return { touched, warnings };
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

const WORLD_MAPS: { [T in TableName]: (w: World) => Map<string, RowOf[T] | null> } = {
  device: (w) => w.devices,
  vehicle: (w) => w.vehicles,
  privilege: (w) => w.privileges,
  synthetic: (w) => w.synthetics,
  manufacturer: (w) => w.manufacturers,
  integration: (w) => w.integrations,
};

/** Shallow copies of the row maps: the "before" images, taken before `applyEvents`. */
export function snapshotRows(world: World): { [T in TableName]: Map<string, RowOf[T] | null> } {
  return {
    device: new Map(world.devices),
    vehicle: new Map(world.vehicles),
    privilege: new Map(world.privileges),
    synthetic: new Map(world.synthetics),
    manufacturer: new Map(world.manufacturers),
    integration: new Map(world.integrations),
  };
}

/** The touched rows whose indexer-owned state differs from the snapshot. */
export function diffWorld(before: ReturnType<typeof snapshotRows>, world: World, touched: Touched): RowChange[] {
  const out: RowChange[] = [];
  const collect = <T extends TableName>(table: T) => {
    const after = WORLD_MAPS[table](world);
    for (const key of touched[table]) {
      const b = before[table].get(key) ?? null;
      const a = after.get(key) ?? null;
      if (!sameIndexedState(table, b, a)) out.push({ table, key, before: b, after: a });
    }
  };
  collect('manufacturer');
  collect('integration');
  collect('vehicle');
  collect('device');
  collect('synthetic');
  collect('privilege');
  return out;
}
