// Queries over users' vehicles and what hangs off them. Batch loaders take a page of vehicles
// and fetch each related table once (no N+1).
import { and, desc, eq, gt, inArray, isNotNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { aftermarketDevices, integrations, metaTransactionRequests, nftPrivileges, syntheticDevices, userDevices } from '../schema.ts';

import type { AftermarketDeviceRow, IntegrationRow, MetaTxRow, NewUserDeviceRow, PrivilegeRow, SyntheticDeviceRow, UserDeviceRow } from './rows.ts';
import { firstRow } from './first-row.ts';

export type { AftermarketDeviceRow, IntegrationRow, MetaTxRow, PrivilegeRow, UserDeviceRow } from './rows.ts';
/** A synthetic device with its mint request (null when minted elsewhere or the request is gone). */
export interface SyntheticWithRequest {
  device: SyntheticDeviceRow;
  request: MetaTxRow | null;
}

export interface Owner {
  userId: string;
  /** Lower-case address, or null when the caller has none. */
  address: string | null;
}

/** The one access rule for a vehicle: created by the user, or its NFT is owned by their address. */
export function ownedBy(owner: Owner): SQL {
  const byUser = eq(userDevices.userId, owner.userId);
  return owner.address ? (or(byUser, eq(userDevices.ownerAddress, owner.address)) as SQL) : byUser;
}

export async function findOwned(db: Db | Tx, owner: Owner, id: string): Promise<UserDeviceRow | undefined> {
  return firstRow(db.select().from(userDevices).where(and(eq(userDevices.id, id), ownedBy(owner))));
}

/** The id of the owner's vehicle carrying `tokenId`, if any. */
export async function ownedIdWithToken(db: Db | Tx, owner: Owner, tokenId: bigint): Promise<string | null> {
  const [row] = await db
    .select({ id: userDevices.id })
    .from(userDevices)
    .where(and(eq(userDevices.tokenId, tokenId), ownedBy(owner)))
    .limit(1);
  return row?.id ?? null;
}

/** The owner's vehicle, row-locked until the end of the transaction. */
export async function lockOwned(tx: Tx, owner: Owner, id: string): Promise<UserDeviceRow | undefined> {
  const [row] = await tx
    .select()
    .from(userDevices)
    .where(and(eq(userDevices.id, id), ownedBy(owner)))
    .for('update');
  return row;
}

/** ownedBy for a row already read: the same rule, for callers that fetched by id. */
export function isOwnedBy(row: Pick<UserDeviceRow, 'userId' | 'ownerAddress'>, owner: Owner): boolean {
  return row.userId === owner.userId || (owner.address !== null && row.ownerAddress === owner.address);
}

/**
 * Vehicles by id, as a statement built once per database: every vehicle route's access check
 * reads through it (building a select of every column costs more CPU than the round trip), and
 * the ids of concurrent checks go in one array parameter.
 */
export function prepareFindByIds(db: Db): (ids: string[]) => Promise<UserDeviceRow[]> {
  const q = db
    .select()
    .from(userDevices)
    .where(sql`${userDevices.id} = any(${sql.placeholder('ids')})`)
    .prepare('user_devices_find_by_ids');
  return async (ids) => (ids.length === 0 ? [] : q.execute({ ids }));
}

export async function listOwned(db: Db, owner: Owner, limit: number, cursor?: string): Promise<UserDeviceRow[]> {
  return db
    .select()
    .from(userDevices)
    .where(cursor ? and(ownedBy(owner), lt(userDevices.id, cursor)) : ownedBy(owner))
    .orderBy(desc(userDevices.id))
    .limit(limit);
}

/** Vehicles on which `address` holds at least one privilege that has not expired at `now`. */
export async function listShared(db: Db, address: string, now: Date, limit: number, cursor?: string): Promise<UserDeviceRow[]> {
  const holders = db
    .selectDistinct({ tokenId: nftPrivileges.tokenId })
    .from(nftPrivileges)
    .where(and(eq(nftPrivileges.userAddress, address), gt(nftPrivileges.expiry, now)));
  const conds = [isNotNull(userDevices.tokenId), inArray(userDevices.tokenId, holders)];
  if (cursor) conds.push(lt(userDevices.id, cursor));
  return db
    .select()
    .from(userDevices)
    .where(and(...conds))
    .orderBy(desc(userDevices.id))
    .limit(limit);
}

/** Privilege ids `address` holds unexpired at `now` on the vehicle with this id (none when unminted or unknown). */
export async function heldPrivilegesByDeviceId(db: Db, userDeviceId: string, address: string, now: Date): Promise<number[]> {
  const [row] = await db.select({ tokenId: userDevices.tokenId }).from(userDevices).where(eq(userDevices.id, userDeviceId)).limit(1);
  return row?.tokenId != null ? heldPrivileges(db, row.tokenId, address, now) : [];
}

export async function privilegesFor(db: Db | Tx, tokenIds: bigint[], now: Date): Promise<PrivilegeRow[]> {
  if (tokenIds.length === 0) return [];
  return db
    .select()
    .from(nftPrivileges)
    .where(and(inArray(nftPrivileges.tokenId, tokenIds), gt(nftPrivileges.expiry, now)))
    .orderBy(nftPrivileges.userAddress, desc(nftPrivileges.updatedAt), nftPrivileges.privilege);
}

export async function aftermarketDevicesFor(db: Db | Tx, vehicleTokenIds: bigint[]): Promise<AftermarketDeviceRow[]> {
  if (vehicleTokenIds.length === 0) return [];
  return db.select().from(aftermarketDevices).where(inArray(aftermarketDevices.vehicleTokenId, vehicleTokenIds));
}

/** Synthetic devices of these vehicles with their mint requests, newest first (one query). */
export async function syntheticDevicesFor(db: Db | Tx, vehicleTokenIds: bigint[]): Promise<SyntheticWithRequest[]> {
  if (vehicleTokenIds.length === 0) return [];
  return db
    .select({ device: syntheticDevices, request: metaTransactionRequests })
    .from(syntheticDevices)
    .leftJoin(metaTransactionRequests, eq(metaTransactionRequests.id, syntheticDevices.mintRequestId))
    .where(inArray(syntheticDevices.vehicleTokenId, vehicleTokenIds))
    .orderBy(desc(syntheticDevices.createdAt), desc(syntheticDevices.id));
}

/** Every integration minted on chain (a handful), in token order. */
export async function allIntegrations(db: Db | Tx): Promise<IntegrationRow[]> {
  return db.select().from(integrations).orderBy(integrations.tokenId);
}

export async function insertUserDevice(db: Db | Tx, row: NewUserDeviceRow): Promise<UserDeviceRow> {
  const [inserted] = await db.insert(userDevices).values(row).returning();
  return inserted!;
}

/** Rows with this VIN, minted ones first, for the duplicate-VIN rules of `fromvin`. */
export async function findByVin(db: Db | Tx, vin: string): Promise<UserDeviceRow[]> {
  return db
    .select()
    .from(userDevices)
    .where(eq(userDevices.vin, vin))
    .orderBy(sql`${userDevices.tokenId} is null`, desc(userDevices.id))
    .limit(50);
}

export async function deleteUserDevice(db: Db | Tx, id: string): Promise<void> {
  await db.delete(userDevices).where(eq(userDevices.id, id));
}

/** Links the vehicle to its mint request. */
export async function linkMintRequest(db: Db | Tx, id: string, requestId: string): Promise<void> {
  await db.update(userDevices).set({ mintRequestId: requestId, updatedAt: new Date() }).where(eq(userDevices.id, id));
}

/** The privilege ids `grantee` holds on the vehicle `tokenId` that have not expired at `now`, ascending. */
export async function heldPrivileges(db: Db | Tx, tokenId: bigint, grantee: string, now: Date): Promise<number[]> {
  const held = await db
    .selectDistinct({ privilege: nftPrivileges.privilege })
    .from(nftPrivileges)
    .where(and(eq(nftPrivileges.tokenId, tokenId), eq(nftPrivileges.userAddress, grantee), gt(nftPrivileges.expiry, now)));
  return held.map((h) => h.privilege).sort((a, b) => a - b);
}

/** Every privilege on the vehicle `tokenId` that had not expired at `since`. */
export async function privilegesSince(db: Db | Tx, tokenId: bigint, since: Date): Promise<{ grantee: string; privilege: number; expiry: Date }[]> {
  return db
    .select({ grantee: nftPrivileges.userAddress, privilege: nftPrivileges.privilege, expiry: nftPrivileges.expiry })
    .from(nftPrivileges)
    .where(and(eq(nftPrivileges.tokenId, tokenId), gt(nftPrivileges.expiry, since)));
}
