// Aftermarket devices by serial (API.md §2): the one access rule every by-serial route applies,
// and the AftermarketDeviceInfo view. Rows come from the indexer (chain events are the only
// source of truth for ownership and pairing); request statuses from the outbox.
import { and, desc, eq, gt, inArray, or, sql, type SQL } from 'drizzle-orm';
import { getAddress, type Address } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { aftermarketDevices, firmwareUpdateTasks, metaTransactionRequests, userDevices } from '../db/schema.ts';
import type { AuthUser } from '../auth/verifier.ts';
import type { MetaTxRow } from '../chain/outbox.ts';
import { deviceName } from '../domain/device-name.ts';
import { legacyFirmwareFields } from '../domain/legacy-firmware.ts';
import { normaliseSerial } from '../domain/serial.ts';
import { notFound } from '../errors.ts';
import type { TransactionRequest } from '../http/schemas.ts';
import { toTransactionRequest } from './transactions.ts';

export type AftermarketDeviceRow = typeof aftermarketDevices.$inferSelect;
export type FirmwareTaskRow = typeof firmwareUpdateTasks.$inferSelect;

/** The one answer for "no such serial" and "not yours" alike (no existence probing). */
export const AFTERMARKET_DEVICE_NOT_FOUND = 'AftermarketDevice not minted, or serial is invalid.';

export interface UpdateTaskView {
  taskId: string;
  status: 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';
  requestedAt: Date;
  updatedAt: Date;
  fromVersion: string | null;
  toVersion: string | null;
  failureReason?: string;
}

export interface AftermarketDeviceInfo {
  serial: string;
  unitId: string;
  tokenId: bigint;
  ethereumAddress: Address;
  ownerAddress: Address | null;
  beneficiaryAddress: Address | null;
  manufacturer: { tokenId: bigint | null; name: string | null };
  vehicleTokenId: bigint | null;
  userDeviceId: string | null;
  claim: TransactionRequest | null;
  pair: TransactionRequest | null;
  unpair: TransactionRequest | null;
  firmware: { releaseVersion: string | null; lastSeenAt: Date | null; update: UpdateTaskView | null };
  /** The original API's top-level firmware fields (domain/legacy-firmware.ts). */
  isUpdated: boolean | null;
  shouldUpdate: boolean | null;
  releaseVersion: string | null;
  deviceName: string | null;
}

const lowerAddress = (user: AuthUser) => user.address?.toLowerCase() ?? null;

/** The device with this serial (normalised as everywhere else), or undefined. */
export async function findBySerial(db: Db | Tx, rawSerial: unknown, opts: { forUpdate?: boolean } = {}): Promise<AftermarketDeviceRow | undefined> {
  const serial = normaliseSerial(rawSerial);
  if (serial === null) return undefined;
  const q = db.select().from(aftermarketDevices).where(eq(aftermarketDevices.serial, serial)).limit(1);
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

/** `user_devices` rows of the caller: created by them, or their wallet owns the NFT. */
function callerVehicles(user: AuthUser): SQL {
  const address = lowerAddress(user);
  const byUser = eq(userDevices.userId, user.id);
  return address ? (or(byUser, eq(userDevices.ownerAddress, address)) as SQL) : byUser;
}

/** The caller's vehicle record carrying `vehicleTokenId`, if any. */
async function callerVehicleId(db: Db | Tx, user: AuthUser, vehicleTokenId: bigint): Promise<string | null> {
  const [row] = await db
    .select({ id: userDevices.id })
    .from(userDevices)
    .where(and(eq(userDevices.tokenId, vehicleTokenId), callerVehicles(user)))
    .limit(1);
  return row?.id ?? null;
}

/**
 * The access rule: an unpaired and unclaimed device is readable by every authenticated user (they
 * need it to claim it); once claimed or paired, only by its owner (the caller's address) or the
 * owner of the vehicle it is paired with.
 */
export async function canRead(db: Db | Tx, user: AuthUser, row: AftermarketDeviceRow): Promise<boolean> {
  if (row.ownerAddress === null && row.vehicleTokenId === null) return true;
  const address = lowerAddress(user);
  if (address !== null && row.ownerAddress === address) return true;
  if (row.vehicleTokenId !== null) return (await callerVehicleId(db, user, row.vehicleTokenId)) !== null;
  return false;
}

/** The device, if the caller may see it; the same 404 for unknown, malformed and not-yours serials. */
export async function requireReadableDevice(db: Db | Tx, user: AuthUser, rawSerial: unknown, opts: { forUpdate?: boolean } = {}): Promise<AftermarketDeviceRow> {
  const row = await findBySerial(db, rawSerial, opts);
  if (!row || !(await canRead(db, user, row))) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
  return row;
}

export function renderUpdateTask(t: FirmwareTaskRow): UpdateTaskView {
  return {
    taskId: t.id,
    status: t.status as UpdateTaskView['status'],
    requestedAt: t.requestedAt,
    updatedAt: t.updatedAt,
    fromVersion: t.fromVersion,
    toVersion: t.toVersion,
    ...(t.status === 'Failed' && t.failureReason ? { failureReason: t.failureReason } : {}),
  };
}

/**
 * True when a Confirmed claim request no longer holds: a (development) unclaim of the device was
 * confirmed after it. Then the claim status is history, not the device's state.
 */
export async function claimUndone(db: Db | Tx, tokenId: bigint, claim: Pick<MetaTxRow, 'createdAt'>): Promise<boolean> {
  const [row] = await db
    .select({ id: metaTransactionRequests.id })
    .from(metaTransactionRequests)
    .where(
      and(
        eq(metaTransactionRequests.kind, 'Unclaim'),
        eq(metaTransactionRequests.status, 'Confirmed'),
        sql`${metaTransactionRequests.subject} ->> 'aftermarketTokenId' = ${tokenId.toString()}`,
        gt(metaTransactionRequests.createdAt, claim.createdAt),
      ),
    )
    .limit(1);
  return row !== undefined;
}

export function createAftermarketDeviceService(deps: { db: Db }) {
  const { db } = deps;

  return {
    findBySerial: (serial: unknown) => findBySerial(db, serial),
    requireReadableDevice: (user: AuthUser, serial: unknown) => requireReadableDevice(db, user, serial),

    /** GET /v1/aftermarket/device/by-serial/{serial}. */
    async info(user: AuthUser, rawSerial: string): Promise<AftermarketDeviceInfo> {
      const row = await requireReadableDevice(db, user, rawSerial);
      // The caller's vehicle is looked up alongside the device's requests (one round trip less).
      const userDeviceId = row.vehicleTokenId !== null ? callerVehicleId(db, user, row.vehicleTokenId) : null;
      return renderDeviceInfo(db, row, { userDeviceId, viewerId: user.id });
    },
  };
}

/**
 * The AftermarketDeviceInfo of `row`. `viewerId`: who asks; before the claim is on chain only the
 * requester sees their claim request (null: the device's owner, who sees it).
 */
export async function renderDeviceInfo(
  db: Db | Tx,
  row: AftermarketDeviceRow,
  opts: { userDeviceId: string | null | Promise<string | null>; viewerId: string | null },
): Promise<AftermarketDeviceInfo> {
  const ids = [row.claimRequestId, row.pairRequestId, row.unpairRequestId].filter((x): x is string => x !== null);
  const [requests, tasks, userDeviceId] = await Promise.all([
    ids.length ? db.select().from(metaTransactionRequests).where(inArray(metaTransactionRequests.id, ids)) : Promise.resolve([] as MetaTxRow[]),
    db
      .select()
      .from(firmwareUpdateTasks)
      .where(eq(firmwareUpdateTasks.aftermarketTokenId, row.tokenId))
      .orderBy(desc(firmwareUpdateTasks.requestedAt), desc(firmwareUpdateTasks.id))
      .limit(1),
    opts.userDeviceId,
  ]);
  const byId = new Map(requests.map((r) => [r.id, r]));
  const status = (id: string | null) => {
    const r = id ? byId.get(id) : undefined;
    return r ? toTransactionRequest(r) : null;
  };

  let claim = status(row.claimRequestId);
  const claimRow = row.claimRequestId ? byId.get(row.claimRequestId) : undefined;
  if (claim && claimRow && row.ownerAddress === null) {
    // Before the claim is on chain the device is readable by anyone: only the requester sees
    // their request. A confirmed claim that a later unclaim undid is no longer the state.
    if (opts.viewerId !== null && claimRow.userId !== opts.viewerId) claim = null;
    else if (claimRow.status === 'Confirmed' && (await claimUndone(db, row.tokenId, claimRow))) claim = null;
  }

  const owner = row.ownerAddress ? getAddress(row.ownerAddress) : null;
  return {
    serial: row.serial!,
    unitId: row.serial!,
    tokenId: row.tokenId,
    ethereumAddress: getAddress(row.address),
    ownerAddress: owner,
    beneficiaryAddress: row.beneficiaryAddress ? getAddress(row.beneficiaryAddress) : owner,
    manufacturer: { tokenId: row.manufacturerTokenId, name: row.manufacturerName },
    vehicleTokenId: row.vehicleTokenId,
    userDeviceId,
    claim,
    pair: status(row.pairRequestId),
    unpair: status(row.unpairRequestId),
    firmware: {
      releaseVersion: row.firmwareVersion,
      lastSeenAt: row.lastSeenAt,
      update: tasks[0] ? renderUpdateTask(tasks[0]) : null,
    },
    ...legacyFirmwareFields(row.firmwareVersion, tasks[0]),
    // The device's three-word name, as in its NFT metadata.
    deviceName: deviceName(row.address),
  };
}

export type AftermarketDeviceService = ReturnType<typeof createAftermarketDeviceService>;
