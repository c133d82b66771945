// Aftermarket devices by serial (API.md §2): the one access rule every by-serial route applies,
// and the AftermarketDeviceInfo view. Rows come from the indexer (chain events are the only
// source of truth for ownership and pairing); request statuses from the outbox.
import { getAddress } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { findBySerial, type AftermarketDeviceRow } from '../db/repositories/aftermarket-devices.ts';
import { latestFor } from '../db/repositories/firmware-tasks.ts';
import { claimUndone, requestsById } from '../db/repositories/transaction-requests.ts';
import { ownedIdWithToken } from '../db/repositories/user-devices.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { deviceName } from '../domain/device-name.ts';
import { legacyFirmwareFields } from '../domain/legacy-firmware.ts';
import { toTransactionRequest, toUpdateTask, type AftermarketDeviceInfo } from '../domain/views.ts';
import { notFound } from '../errors.ts';
import { ownerOf } from './vehicles.ts';

/** The one answer for "no such serial" and "not yours" alike (no existence probing). */
export const AFTERMARKET_DEVICE_NOT_FOUND = 'AftermarketDevice not minted, or serial is invalid.';

const lowerAddress = (user: AuthUser) => user.address?.toLowerCase() ?? null;

/** The caller's vehicle record carrying `vehicleTokenId`, if any. */
const callerVehicleId = (db: Db | Tx, user: AuthUser, vehicleTokenId: bigint) => ownedIdWithToken(db, ownerOf(user), vehicleTokenId);

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

export function createAftermarketDeviceService(deps: { db: Db }) {
  const { db } = deps;

  return {
    findBySerial: (serial: unknown) => findBySerial(db, serial),
    requireReadableDevice: (user: AuthUser, serial: unknown) => requireReadableDevice(db, user, serial),

    /** GET /v1/aftermarket/device/by-serial/{serial}. */
    async info(user: AuthUser, rawSerial: string): Promise<AftermarketDeviceInfo> {
      const row = await requireReadableDevice(db, user, rawSerial);
      // The caller's vehicle is looked up alongside the device's requests (one round trip less).
      const [facts, userDeviceId] = await Promise.all([
        loadDeviceFacts(db, row),
        row.vehicleTokenId !== null ? callerVehicleId(db, user, row.vehicleTokenId) : null,
      ]);
      return renderDeviceInfo(db, row, facts, { userDeviceId, viewerId: user.id });
    },
  };
}

/** What a device's info shows besides its row: its claim/pair/unpair requests and latest firmware task. */
export async function loadDeviceFacts(db: Db | Tx, row: AftermarketDeviceRow) {
  const ids = [row.claimRequestId, row.pairRequestId, row.unpairRequestId].filter((x): x is string => x !== null);
  const [requests, task] = await Promise.all([requestsById(db, ids), latestFor(db, row.tokenId)]);
  return { requests, task };
}

/**
 * The AftermarketDeviceInfo of `row` and its `facts`. `viewerId`: who asks; before the claim is on
 * chain only the requester sees their claim request (null: the device's owner, who sees it).
 */
export async function renderDeviceInfo(
  db: Db | Tx,
  row: AftermarketDeviceRow,
  { requests, task }: Awaited<ReturnType<typeof loadDeviceFacts>>,
  opts: { userDeviceId: string | null; viewerId: string | null },
): Promise<AftermarketDeviceInfo> {
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
    userDeviceId: opts.userDeviceId,
    claim,
    pair: status(row.pairRequestId),
    unpair: status(row.unpairRequestId),
    firmware: {
      releaseVersion: row.firmwareVersion,
      lastSeenAt: row.lastSeenAt,
      update: task ? toUpdateTask(task) : null,
    },
    ...legacyFirmwareFields(row.firmwareVersion, task),
    // The device's three-word name, as in its NFT metadata.
    deviceName: deviceName(row.address),
  };
}

export type AftermarketDeviceService = ReturnType<typeof createAftermarketDeviceService>;
