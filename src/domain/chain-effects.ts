// What chain events do to the database's picture of the world (CHAIN.md §4), as a pure function:
// `applyEvents` folds a batch's events over a `World` (chain-world.ts) in chain order, one small
// handler per event kind. Rows are replaced, never mutated (copy-on-write), so the loaded rows
// stay the "before" images of the batch's undo log. Applying the same events to the state they
// produced changes nothing.
import type { ChainEvent, ChainEventKind, NftKind } from './chain-events.ts';
import { ZERO_ADDRESS } from './chain-events.ts';
import { normaliseSerial } from './serial.ts';
import { slugPart } from './definition-id.ts';
import { WORLD_MAPS, noneTouched, privilegeKey, type DeviceRow, type RowOf, type TableName, type Touched, type VehicleRow, type World } from './chain-world.ts';

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

export interface ApplyOptions {
  /** New row ids (vehicles and synthetic devices minted elsewhere). */
  newId: () => string;
  /** Wall clock, for created_at of new rows and for updated_at when the node gives no block time. */
  now: Date;
}

export interface ApplyResult {
  touched: Touched;
  /** Events that could not be applied as they stand (unknown device, duplicate serial, …). */
  warnings: string[];
}

type VehicleAttrs = { make?: string; model?: string; year?: string };

/** A vehicle record for a vehicle minted outside this service, from the mint event (and, once seen, its Make/Model/Year). */
export function chainDefinitionSnapshot(deviceDefinitionId: string, attrs: VehicleAttrs = {}): VehicleRow['definition'] {
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

/** What the handlers of one batch share: the world, what they changed, and the batch's own indexes. */
interface Batch {
  world: World;
  opts: ApplyOptions;
  touched: Touched;
  warnings: string[];
  /** Vehicles created from a mint event in this batch: their Make/Model/Year attributes follow it. */
  createdVehicles: Map<string, { ddId: string; attrs: VehicleAttrs }>;
  /** Privilege keys per token, to clear a vehicle's grants on transfer. */
  privilegesByToken: Map<string, Set<string>>;
}

function put<T extends TableName>(b: Batch, table: T, key: string, row: RowOf[T] | null): void {
  WORLD_MAPS[table](b.world).set(key, row);
  b.touched[table].add(key);
}

function indexPrivilege(b: Batch, token: string, key: string): void {
  let set = b.privilegesByToken.get(token);
  if (!set) b.privilegesByToken.set(token, (set = new Set()));
  set.add(key);
}

function patchDevice(b: Batch, tokenId: bigint, patch: Partial<DeviceRow>, what: string): void {
  const key = tokenId.toString();
  const row = b.world.devices.get(key);
  if (!row) b.warnings.push(`${what}: aftermarket device ${key} is not indexed`);
  else put(b, 'device', key, { ...row, ...patch });
}

function vehicleFor(b: Batch, tokenId: bigint): VehicleRow | null {
  const id = b.world.vehicleByToken.get(tokenId.toString());
  return id ? (b.world.vehicles.get(id) ?? null) : null;
}

type EventOf<K extends ChainEventKind> = Extract<ChainEvent, { kind: K }>;
type Handler<K extends ChainEventKind> = (b: Batch, e: EventOf<K>) => void;

function mintManufacturer(b: Batch, e: EventOf<'ManufacturerMinted'>): void {
  const key = e.tokenId.toString();
  const row = b.world.manufacturers.get(key);
  put(b, 'manufacturer', key, row ? { ...row, name: e.name, ownerAddress: e.owner } : { tokenId: e.tokenId, name: e.name, ownerAddress: e.owner, createdAt: b.opts.now });
}

function mintIntegration(b: Batch, e: EventOf<'IntegrationMinted'>): void {
  const key = e.tokenId.toString();
  const name = b.world.integrationNames.get(key) ?? `Integration ${key}`;
  const row = b.world.integrations.get(key);
  put(b, 'integration', key, row ? { ...row, name } : { tokenId: e.tokenId, name, createdAt: b.opts.now });
}

function mintDevice(b: Batch, e: EventOf<'DeviceMinted'>): void {
  const key = e.tokenId.toString();
  const row = b.world.devices.get(key);
  const manufacturerName = b.world.manufacturers.get(e.manufacturerTokenId.toString())?.name ?? null;
  const minted = { address: e.address, manufacturerTokenId: e.manufacturerTokenId, manufacturerName };
  if (row) return put(b, 'device', key, { ...row, ...minted });
  const now = b.opts.now;
  put(b, 'device', key, {
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
    createdAt: now,
    updatedAt: now,
  });
}

/** A serial is set once, at mint; a later different value, or one another device holds, is reported, not applied. */
function setDeviceSerial(b: Batch, e: EventOf<'DeviceAttributeSet'>): void {
  if (e.attribute !== 'Serial') return;
  const key = e.tokenId.toString();
  const serial = normaliseSerial(e.info);
  const row = b.world.devices.get(key);
  if (!row) return void b.warnings.push(`Serial of aftermarket device ${key}: device is not indexed`);
  if (serial === null) return void b.warnings.push(`Serial of aftermarket device ${key} is not a usable serial: ${JSON.stringify(e.info.slice(0, 80))}`);
  if (row.serial !== null) {
    if (row.serial !== serial) b.warnings.push(`aftermarket device ${key} already has serial ${row.serial}; ignored ${serial}`);
    return;
  }
  const holder = b.world.serialOwners.get(serial);
  if (holder !== undefined && holder !== key) return void b.warnings.push(`serial ${serial} of aftermarket device ${key} already belongs to device ${holder}; not set`);
  b.world.serialOwners.set(serial, key);
  put(b, 'device', key, { ...row, serial });
}

function mintVehicle(b: Batch, e: EventOf<'VehicleMinted'>): void {
  const { world, opts } = b;
  const token = e.tokenId.toString();
  const requestDevice = world.mintRequests.get(e.txHash.toLowerCase());
  const id = world.vehicleByToken.get(token) ?? (requestDevice && world.vehicles.get(requestDevice) ? requestDevice : undefined);
  const minted = { tokenId: e.tokenId, ownerAddress: e.owner, vinConfirmed: true };
  if (id) {
    const row = world.vehicles.get(id)!;
    if (row.tokenId !== null && row.tokenId !== e.tokenId) world.vehicleByToken.delete(row.tokenId.toString());
    put(b, 'vehicle', id, { ...row, ...minted });
    world.vehicleByToken.set(token, id);
    return;
  }
  const newId = opts.newId();
  put(b, 'vehicle', newId, {
    id: newId,
    userId: chainOwnerUserId(e.owner),
    definitionId: e.deviceDefinitionId,
    definition: chainDefinitionSnapshot(e.deviceDefinitionId),
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
  b.createdVehicles.set(newId, { ddId: e.deviceDefinitionId, attrs: {} });
}

/** Make/Model/Year of a vehicle this batch created from its mint event refine its definition snapshot. */
function setVehicleAttribute(b: Batch, e: EventOf<'VehicleAttributeSet'>): void {
  const id = b.world.vehicleByToken.get(e.tokenId.toString());
  const created = id ? b.createdVehicles.get(id) : undefined;
  const field = ({ Make: 'make', Model: 'model', Year: 'year' } as const)[e.attribute as 'Make' | 'Model' | 'Year'];
  if (!id || !created || !field) return;
  created.attrs[field] = e.info;
  const row = b.world.vehicles.get(id)!;
  put(b, 'vehicle', id, { ...row, definition: chainDefinitionSnapshot(created.ddId, created.attrs) });
}

function setPrivilege(b: Batch, e: EventOf<'PrivilegeSet'>): void {
  if (e.privilege > MAX_PRIVILEGE_ID) return void b.warnings.push(`privilege id ${e.privilege} on vehicle ${e.tokenId} is out of range; ignored`);
  const key = privilegeKey(e.tokenId, e.privilege, e.user);
  const expiry = e.expires * 1000n >= BigInt(MAX_EXPIRY.getTime()) ? MAX_EXPIRY : new Date(Number(e.expires) * 1000);
  const row = b.world.privileges.get(key);
  if (row && row.expiry.getTime() === expiry.getTime()) return;
  put(b, 'privilege', key, { tokenId: e.tokenId, privilege: Number(e.privilege), userAddress: e.user, expiry, updatedAt: e.blockTime ?? b.opts.now });
  indexPrivilege(b, e.tokenId.toString(), key);
}

function mintSynthetic(b: Batch, e: EventOf<'SyntheticMinted'>): void {
  const { world, opts } = b;
  const token = e.tokenId.toString();
  const id = world.syntheticByToken.get(token) ?? world.syntheticByAddress.get(e.address);
  const row = id ? world.synthetics.get(id) : null;
  const userDeviceId = vehicleFor(b, e.vehicleTokenId)?.id ?? row?.userDeviceId ?? null;
  const minted = { tokenId: e.tokenId, vehicleTokenId: e.vehicleTokenId, integrationTokenId: e.integrationTokenId, userDeviceId };
  if (id && row) put(b, 'synthetic', id, { ...row, ...minted });
  else {
    const newId = opts.newId();
    put(b, 'synthetic', newId, {
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
}

function burnSynthetic(b: Batch, e: EventOf<'SyntheticBurned'>): void {
  const token = e.tokenId.toString();
  const id = b.world.syntheticByToken.get(token);
  if (!id || !b.world.synthetics.get(id)) return;
  put(b, 'synthetic', id, null);
  b.world.syntheticByToken.delete(token);
}

type TransferHandler = (b: Batch, e: EventOf<'Transfer'>, burned: boolean) => void;

/** A vehicle changing hands loses its grants; burned, a record nobody's login owns goes with its NFT, a user's record stays, unminted. */
function transferVehicle(b: Batch, e: EventOf<'Transfer'>, burned: boolean): void {
  const token = e.tokenId.toString();
  for (const key of b.privilegesByToken.get(token) ?? []) put(b, 'privilege', key, null);
  b.privilegesByToken.delete(token);
  const row = vehicleFor(b, e.tokenId);
  if (!row) return;
  if (!burned) return put(b, 'vehicle', row.id, { ...row, ownerAddress: e.to, userId: chainOwnerUserId(e.to) });
  b.world.vehicleByToken.delete(token);
  if (row.userId.startsWith(CHAIN_OWNER_PREFIX)) put(b, 'vehicle', row.id, null);
  else put(b, 'vehicle', row.id, { ...row, tokenId: null, ownerAddress: null, vinConfirmed: false, mintRequestId: null });
}

function transferDevice(b: Batch, e: EventOf<'Transfer'>, burned: boolean): void {
  const key = e.tokenId.toString();
  const row = b.world.devices.get(key);
  if (!row) return;
  if (burned) {
    if (row.serial !== null) b.world.serialOwners.delete(row.serial);
    put(b, 'device', key, null);
  } else if (row.ownerAddress !== null) {
    // Claimed devices change hands; before the claim the holder is the manufacturer.
    put(b, 'device', key, { ...row, ownerAddress: e.to, userId: null, beneficiaryAddress: null });
  }
}

function transferManufacturer(b: Batch, e: EventOf<'Transfer'>, burned: boolean): void {
  const key = e.tokenId.toString();
  const row = b.world.manufacturers.get(key);
  if (row && !burned) put(b, 'manufacturer', key, { ...row, ownerAddress: e.to });
}

const TRANSFERS: Partial<Record<NftKind, TransferHandler>> = { vehicle: transferVehicle, device: transferDevice, manufacturer: transferManufacturer };

/** One handler per event kind. */
const HANDLERS: { [K in ChainEventKind]: Handler<K> } = {
  ManufacturerMinted: mintManufacturer,
  IntegrationMinted: mintIntegration,
  DeviceMinted: mintDevice,
  DeviceAttributeSet: setDeviceSerial,
  DeviceClaimed: (b, e) => patchDevice(b, e.tokenId, { ownerAddress: e.owner }, 'claim'),
  DeviceUnclaimed: (b, e) => patchDevice(b, e.tokenId, { ownerAddress: null, userId: null, beneficiaryAddress: null }, 'unclaim'),
  DevicePaired: (b, e) => patchDevice(b, e.tokenId, { vehicleTokenId: e.vehicleTokenId }, 'pair'),
  DeviceUnpaired: (b, e) => patchDevice(b, e.tokenId, { vehicleTokenId: null }, 'unpair'),
  VehicleMinted: mintVehicle,
  VehicleAttributeSet: setVehicleAttribute,
  PrivilegeSet: setPrivilege,
  SyntheticMinted: mintSynthetic,
  SyntheticBurned: burnSynthetic,
  // Mints (from the zero address) are left to the mint events, which carry what matters.
  Transfer: (b, e) => (e.from === ZERO_ADDRESS ? undefined : TRANSFERS[e.nft]?.(b, e, e.to === ZERO_ADDRESS)),
};

/**
 * Applies `events` (chain order) to `world`, replacing rows rather than mutating them, so the
 * maps' previous values stay valid "before" images for whoever copied the maps first.
 */
export function applyEvents(world: World, events: readonly ChainEvent[], opts: ApplyOptions): ApplyResult {
  const b: Batch = { world, opts, touched: noneTouched(), warnings: [], createdVehicles: new Map(), privilegesByToken: new Map() };
  for (const [key, row] of world.privileges) if (row) indexPrivilege(b, key.slice(0, key.indexOf('|')), key);
  for (const e of events) (HANDLERS[e.kind] as Handler<ChainEventKind>)(b, e);
  return { touched: b.touched, warnings: b.warnings };
}
