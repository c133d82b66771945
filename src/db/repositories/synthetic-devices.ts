// Queries over synthetic devices (a software integration's NFT for a vehicle) and integrations.
import { eq, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../engine.ts';
import { integrations, metaTransactionRequests, syntheticDevices } from '../schema.ts';
import type { SyntheticDeviceRow } from './rows.ts';

export async function integrationExists(db: Db | Tx, tokenId: bigint): Promise<boolean> {
  const [row] = await db.select({ tokenId: integrations.tokenId }).from(integrations).where(eq(integrations.tokenId, tokenId));
  return row !== undefined;
}

/** The vehicle's synthetic devices (every attempt), each with its mint request's status (null without one). */
export async function syntheticDevicesOf(db: Db | Tx, vehicleTokenId: bigint): Promise<{ row: SyntheticDeviceRow; status: string | null }[]> {
  return db
    .select({ row: syntheticDevices, status: metaTransactionRequests.status })
    .from(syntheticDevices)
    .leftJoin(metaTransactionRequests, eq(metaTransactionRequests.id, syntheticDevices.mintRequestId))
    .where(eq(syntheticDevices.vehicleTokenId, vehicleTokenId));
}

/**
 * The next synthetic wallet index from the `synthetic_wallet_index` sequence: never handed out
 * twice, even to two replicas; one taken by a transaction that rolls back is skipped.
 */
export async function nextWalletIndex(tx: Db | Tx): Promise<number> {
  const [next] = rowsOf<{ n: string }>(await tx.execute(sql`select nextval('synthetic_wallet_index')::text as n`));
  return Number(next!.n);
}

export async function insertSyntheticDevice(db: Db | Tx, row: typeof syntheticDevices.$inferInsert): Promise<void> {
  await db.insert(syntheticDevices).values(row);
}
