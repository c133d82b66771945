// Queries over firmware update tasks (one row per update asked of a manufacturer's cloud).
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { firmwareUpdateTasks } from '../schema.ts';
import type { FirmwareTaskRow, NewFirmwareTaskRow } from './rows.ts';

export type { FirmwareTaskRow } from './rows.ts';

const t = firmwareUpdateTasks;

/** Statuses a task can still leave. */
const UNFINISHED = ['Pending', 'InProgress'];

async function first(db: Db | Tx, where: SQL | undefined, ...order: SQL[]): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db
    .select()
    .from(t)
    .where(where)
    .orderBy(...order)
    .limit(1);
  return row;
}

/** The device's newest task, if any. */
export const latestFor = (db: Db | Tx, aftermarketTokenId: bigint) => first(db, eq(t.aftermarketTokenId, aftermarketTokenId), desc(t.requestedAt), desc(t.id));

/** The device's unfinished task, if any (there is at most one). */
export const unfinishedFor = (db: Db | Tx, aftermarketTokenId: bigint) => first(db, and(eq(t.aftermarketTokenId, aftermarketTokenId), inArray(t.status, UNFINISHED)));

/** The task `id` if it is one of the device's. */
export const findForDevice = (db: Db | Tx, aftermarketTokenId: bigint, id: string) => first(db, and(eq(t.id, id), eq(t.aftermarketTokenId, aftermarketTokenId)));

export const findTask = (db: Db | Tx, id: string) => first(db, eq(t.id, id));

export async function insertTask(db: Db | Tx, row: NewFirmwareTaskRow): Promise<FirmwareTaskRow> {
  const [inserted] = await db.insert(t).values(row).returning();
  return inserted!;
}

type TaskChange = Partial<Pick<FirmwareTaskRow, 'cloudUpdateId' | 'status' | 'failureReason' | 'updatedAt'>>;

export async function updateTask(db: Db | Tx, id: string, change: TaskChange): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db.update(t).set(change).where(eq(t.id, id)).returning();
  return row;
}

/** Changes the task only while it is unfinished (undefined when another writer settled it first). */
export async function updateUnfinished(db: Db | Tx, id: string, change: TaskChange): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db
    .update(t)
    .set(change)
    .where(and(eq(t.id, id), inArray(t.status, UNFINISHED)))
    .returning();
  return row;
}

export async function deleteTask(db: Db | Tx, id: string): Promise<void> {
  await db.delete(t).where(eq(t.id, id));
}
