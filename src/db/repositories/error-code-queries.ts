// Queries over a vehicle's error-code history. "Newest" is by requested_at (microseconds, set
// by the database) and then id: KSUIDs only order by the second, and two submissions in one
// second must still come back in the order they were made.
import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../engine.ts';
import { errorCodeQueries, type StoredErrorCode } from '../schema.ts';

import type { ErrorCodeQueryRow } from './rows.ts';

export type { ErrorCodeQueryRow } from './rows.ts';
export type { StoredErrorCode };

const NEWEST_FIRST = [desc(errorCodeQueries.requestedAt), desc(errorCodeQueries.id)];

export interface NewErrorCodeQuery {
  id: string;
  userDeviceId: string;
  codes: StoredErrorCode[];
}

/**
 * Stores several queries in one statement, each stamped with the clock as its row is written so
 * queries keep their order; returns each id with its stamp (the events about them carry it).
 * Fails as a whole, like any statement, e.g. when one vehicle was deleted meanwhile (foreign key
 * violation, 23503).
 */
export async function insertQueries(db: Db | Tx, rows: NewErrorCodeQuery[]): Promise<Map<string, Date>> {
  const result = await db.execute(sql`insert into ${errorCodeQueries} (id, user_device_id, codes, requested_at)
    select r.id, r.user_device_id, r.codes, clock_timestamp()
    from jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ id: r.id, user_device_id: r.userDeviceId, codes: r.codes })))}::jsonb)
      as r(id text, user_device_id text, codes jsonb)
    returning id, (extract(epoch from requested_at) * 1000)::float8 as ms`);
  return new Map(rowsOf<{ id: string; ms: number | string }>(result).map((r) => [r.id, new Date(Number(r.ms))]));
}

export async function queryExists(db: Db | Tx, userDeviceId: string, id: string): Promise<boolean> {
  const rows = await db
    .select({ id: errorCodeQueries.id })
    .from(errorCodeQueries)
    .where(and(eq(errorCodeQueries.userDeviceId, userDeviceId), eq(errorCodeQueries.id, id)))
    .limit(1);
  return rows.length > 0;
}

/**
 * A page of a vehicle's queries, newest first, after the query `cursor` (which must belong to
 * the vehicle). The cursor's position is compared inside SQL so requested_at keeps its
 * microseconds (a JS Date would round them to milliseconds).
 */
export async function listQueries(db: Db | Tx, userDeviceId: string, limit: number, cursor?: string): Promise<ErrorCodeQueryRow[]> {
  const byDevice = eq(errorCodeQueries.userDeviceId, userDeviceId);
  const after = cursor
    ? sql`(${errorCodeQueries.requestedAt}, ${errorCodeQueries.id}) < (select c.requested_at, c.id from ${errorCodeQueries} c where c.id = ${cursor} and c.user_device_id = ${userDeviceId})`
    : undefined;
  return db
    .select()
    .from(errorCodeQueries)
    .where(after ? and(byDevice, after) : byDevice)
    .orderBy(...NEWEST_FIRST)
    .limit(limit);
}

export async function latestQuery(db: Db | Tx, userDeviceId: string): Promise<ErrorCodeQueryRow | undefined> {
  const [row] = await db.select().from(errorCodeQueries).where(eq(errorCodeQueries.userDeviceId, userDeviceId)).orderBy(...NEWEST_FIRST).limit(1);
  return row;
}

/** Sets cleared_at on one query unless it is already set; undefined when nothing changed. */
export async function markCleared(db: Db | Tx, id: string): Promise<ErrorCodeQueryRow | undefined> {
  const [row] = await db
    .update(errorCodeQueries)
    .set({ clearedAt: sql`now()` })
    .where(and(eq(errorCodeQueries.id, id), isNull(errorCodeQueries.clearedAt)))
    .returning();
  return row;
}
