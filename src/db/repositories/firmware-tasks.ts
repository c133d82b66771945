// Queries over firmware update tasks (one row per update asked of a manufacturer's cloud).
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { firmwareUpdateTasks } from '../schema.ts';
import type { FirmwareTaskRow, NewFirmwareTaskRow } from './rows.ts';

export type { FirmwareTaskRow } from './rows.ts';

const t = firmwareUpdateTasks;

/** Statuses a task can still leave. */
const UNFINISHED = ['Pending', 'InProgress'];

/** The device's newest task, if any. */
export async function latestFor(db: Db | Tx, aftermarketTokenId: bigint): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db
    .select()
    .from(t)
    .where(eq(t.aftermarketTokenId, aftermarketTokenId))
    .orderBy(desc(t.requestedAt), desc(t.id))
    .limit(1);
  return row;
}

/** The device's unfinished task, if any (there is at most one). */
export async function unfinishedFor(db: Db | Tx, aftermarketTokenId: bigint): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.aftermarketTokenId, aftermarketTokenId), inArray(t.status, UNFINISHED)))
    .limit(1);
  return row;
}

/** The task `id` if it is one of the device's. */
export async function findForDevice(db: Db | Tx, aftermarketTokenId: bigint, id: string): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.id, id), eq(t.aftermarketTokenId, aftermarketTokenId)))
    .limit(1);
  return row;
}

export async function findTask(db: Db | Tx, id: string): Promise<FirmwareTaskRow | undefined> {
  const [row] = await db.select().from(t).where(eq(t.id, id));
  return row;
}

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
