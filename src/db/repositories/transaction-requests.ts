// Queries over meta_transaction_requests, the outbox of relayed calls: a request is written in
// the SAME database transaction as the state change that asks for it; the relayer sends it later.
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Db, Tx } from '../engine.ts';
import { metaTransactionRequests } from '../schema.ts';
import { newKsuid } from '../../domain/ids.ts';
import { IN_FLIGHT, isInFlight } from '../../domain/relay-state.ts';
import type { MetaTxRow } from './rows.ts';
import { firstRow } from './first-row.ts';

export type { MetaTxRow } from './rows.ts';

/** Every kind of row in meta_transaction_requests; NonceFiller rows are the relayer's own (relayer-store.ts). */
export const TX_KINDS = ['MintVehicle', 'BurnVehicle', 'Claim', 'Unclaim', 'Pair', 'Unpair', 'MintSynthetic', 'MintManufacturer', 'MintDevices', 'SetPrivileges', 'NonceFiller'] as const;
export type TxKind = (typeof TX_KINDS)[number];

export interface EnqueueInput {
  kind: TxKind;
  userId: string | null;
  to: Address;
  data: Hex;
  /** What the request is about, e.g. { userDeviceId, vehicleTokenId, aftermarketTokenId }. */
  subject: Record<string, string>;
}

const m = metaTransactionRequests;

export async function enqueueTransaction(tx: Tx | Db, input: EnqueueInput): Promise<MetaTxRow> {
  const [row] = await tx
    .insert(m)
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
  return firstRow(db.select().from(m).where(and(eq(m.kind, kind), inArray(m.status, [...IN_FLIGHT]), sql`${m.subject} ->> ${key} = ${value}`)));
}

export async function findRequest(db: Tx | Db, id: string | null): Promise<MetaTxRow | undefined> {
  if (!id) return undefined;
  const [row] = await db.select().from(m).where(eq(m.id, id));
  return row;
}

/** The request's status; undefined without an id or a row. */
export async function statusOf(db: Tx | Db, id: string | null): Promise<string | undefined> {
  if (!id) return undefined;
  const [row] = await db.select({ status: m.status }).from(m).where(eq(m.id, id));
  return row?.status;
}

export async function requestsById(db: Db | Tx, ids: string[]): Promise<MetaTxRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(m).where(inArray(m.id, ids));
}

/** The request if `userId` caused it. */
export async function findForUser(db: Db, userId: string, id: string): Promise<MetaTxRow | undefined> {
  const [row] = await db.select().from(m).where(and(eq(m.id, id), eq(m.userId, userId)));
  return row;
}

/** Requests of `kind` about one vehicle (subject.userDeviceId), any status. */
export async function requestsForVehicle(db: Db, kind: TxKind, userDeviceId: string) {
  return db
    .select({ id: m.id, status: m.status, subject: m.subject, createdAt: m.createdAt, updatedAt: m.updatedAt })
    .from(m)
    .where(and(eq(m.kind, kind), sql`${m.subject} ->> 'userDeviceId' = ${userDeviceId}`));
}

/**
 * True when a Confirmed claim request no longer holds: a (development) unclaim of the device was
 * confirmed after it. Then the claim status is history, not the device's state.
 */
export async function claimUndone(db: Db | Tx, tokenId: bigint, claim: Pick<MetaTxRow, 'createdAt'>): Promise<boolean> {
  const [row] = await db
    .select({ id: m.id })
    .from(m)
    .where(
      and(
        eq(m.kind, 'Unclaim'),
        eq(m.status, 'Confirmed'),
        sql`${m.subject} ->> 'aftermarketTokenId' = ${tokenId.toString()}`,
        gt(m.createdAt, claim.createdAt),
      ),
    )
    .limit(1);
  return row !== undefined;
}

/**
 * The request in flight for a subject: the one linked from its row (`linkedId`) if that is still
 * in flight, else any of `kind` whose subject has `key = value` (one queued by another path).
 */
export async function linkedOrInFlight(db: Tx | Db, linkedId: string | null, kind: TxKind, key: string, value: string): Promise<MetaTxRow | undefined> {
  const linked = await findRequest(db, linkedId);
  if (linked && isInFlight(linked.status)) return linked;
  return findInFlight(db, kind, key, value);
}
