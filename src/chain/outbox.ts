// The outbox: a relayed call is a meta_transaction_requests row written in the SAME database
// transaction as the state change that asks for it. The relayer worker sends it later.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { metaTransactionRequests } from '../db/schema.ts';
import { newKsuid } from '../domain/ids.ts';

export type MetaTxRow = typeof metaTransactionRequests.$inferSelect;

/** Every kind of row in meta_transaction_requests; NonceFiller rows are the relayer's own (relayer-store.ts). */
export const TX_KINDS = ['MintVehicle', 'BurnVehicle', 'Claim', 'Unclaim', 'Pair', 'Unpair', 'MintSynthetic', 'MintManufacturer', 'MintDevices', 'SetPrivileges', 'NonceFiller'] as const;
export type TxKind = (typeof TX_KINDS)[number];

/** Statuses that mean "still in progress": a second attempt at the same action is a 409. */
export const IN_FLIGHT = ['Unsubmitted', 'Submitted', 'Mined'] as const;

export interface EnqueueInput {
  kind: TxKind;
  userId: string | null;
  to: Address;
  data: Hex;
  /** What the request is about, e.g. { userDeviceId, vehicleTokenId, aftermarketTokenId }. */
  subject: Record<string, string>;
}

export async function enqueueTransaction(tx: Tx | Db, input: EnqueueInput): Promise<MetaTxRow> {
  const [row] = await tx
    .insert(metaTransactionRequests)
    .values({
      id: newKsuid(),
      userId: input.userId,
      kind: input.kind,
      status: 'Unsubmitted',
      toAddress: input.to.toLowerCase(),
      data: input.data,
      subject: input.subject,
    })
    .returning();
  return row!;
}

/** In-flight requests of `kind` whose subject has `key = value` (for "already in progress" checks). */
export async function findInFlight(db: Tx | Db, kind: TxKind, key: string, value: string): Promise<MetaTxRow | undefined> {
  const rows = await db
    .select()
    .from(metaTransactionRequests)
    .where(
      and(
        eq(metaTransactionRequests.kind, kind),
        inArray(metaTransactionRequests.status, [...IN_FLIGHT]),
        sql`${metaTransactionRequests.subject} ->> ${key} = ${value}`,
      ),
    )
    .limit(1);
  return rows[0];
}
