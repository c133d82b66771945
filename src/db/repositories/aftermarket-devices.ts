// Queries over aftermarket devices. Rows come from the indexer (chain events are the only source
// of truth for ownership and pairing); services only link them to the requests they queue and
// record what a manufacturer's cloud reports about their firmware.
import { and, eq, isNull } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { aftermarketDevices } from '../schema.ts';
import { normaliseSerial } from '../../domain/serial.ts';
import type { AftermarketDeviceRow } from './rows.ts';

export type { AftermarketDeviceRow } from './rows.ts';

const ad = aftermarketDevices;

export interface LockOption {
  forUpdate?: boolean;
}

/** The device with this serial (normalised as everywhere else), or undefined. */
export async function findBySerial(db: Db | Tx, rawSerial: unknown, opts: LockOption = {}): Promise<AftermarketDeviceRow | undefined> {
  const serial = normaliseSerial(rawSerial);
  if (serial === null) return undefined;
  const q = db.select().from(ad).where(eq(ad.serial, serial)).limit(1);
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

export async function findByToken(db: Db | Tx, tokenId: bigint, opts: LockOption = {}): Promise<AftermarketDeviceRow | undefined> {
  const q = db.select().from(ad).where(eq(ad.tokenId, tokenId)).limit(1);
  const rows = opts.forUpdate ? await q.for('update') : await q;
  return rows[0];
}

/** The device paired with the vehicle `vehicleTokenId` (the indexer's view), if any. */
export async function pairedWith(db: Db | Tx, vehicleTokenId: bigint): Promise<AftermarketDeviceRow | undefined> {
  const [row] = await db.select().from(ad).where(eq(ad.vehicleTokenId, vehicleTokenId)).limit(1);
  return row;
}

/** Devices claimed by `address` (lower case) and paired with no vehicle, in token order. */
export async function unpairedOwnedBy(db: Db | Tx, address: string, limit: number): Promise<AftermarketDeviceRow[]> {
  return db
    .select()
    .from(ad)
    .where(and(eq(ad.ownerAddress, address), isNull(ad.vehicleTokenId)))
    .orderBy(ad.tokenId)
    .limit(limit);
}

/** Links the device to the requests queued for it (claim, pair, unpair). */
export async function linkRequests(
  db: Db | Tx,
  tokenId: bigint,
  links: Partial<Pick<AftermarketDeviceRow, 'claimRequestId' | 'pairRequestId' | 'unpairRequestId'>>,
): Promise<void> {
  await db
    .update(ad)
    .set({ ...links, updatedAt: new Date() })
    .where(eq(ad.tokenId, tokenId));
}

/** What the manufacturer's cloud last said about the device's firmware. */
export async function recordFirmware(
  db: Db | Tx,
  tokenId: bigint,
  seen: Partial<Pick<AftermarketDeviceRow, 'firmwareVersion' | 'lastSeenAt'>>,
  at: Date,
): Promise<void> {
  await db
    .update(ad)
    .set({ ...seen, updatedAt: at })
    .where(eq(ad.tokenId, tokenId));
}
