// Queries over document metadata. Only 'ready' rows are ever shown to users; 'deleting' rows are
// hidden while their blob is removed and finished by the reconciler if that removal is cut short.
import { and, count, desc, eq, inArray, sql, sum } from 'drizzle-orm';
import type { Db, Tx } from '../engine.ts';
import { documents } from '../schema.ts';
import type { DocumentCursor } from '../../domain/documents.ts';

import type { DocumentRow, NewDocumentRow } from './rows.ts';
import { firstRow } from './first-row.ts';

export type { DocumentRow, NewDocumentRow } from './rows.ts';

const visible = (userId: string) => and(eq(documents.userId, userId), eq(documents.state, 'ready'));

export async function insertDocument(db: Db | Tx, row: NewDocumentRow): Promise<DocumentRow> {
  const [inserted] = await db.insert(documents).values(row).returning();
  return inserted!;
}

export async function findVisible(db: Db, userId: string, id: string): Promise<DocumentRow | undefined> {
  return firstRow(db.select().from(documents).where(and(eq(documents.id, id), visible(userId))));
}

/** What a listing shows: not the owner, blob key or state (fewer columns to decode per row). */
const listedColumns = {
  id: documents.id,
  name: documents.name,
  type: documents.type,
  ext: documents.ext,
  contentType: documents.contentType,
  size: documents.size,
  sha256: documents.sha256,
  userDeviceId: documents.userDeviceId,
  createdAt: documents.createdAt,
};
export type ListedDocument = Pick<DocumentRow, keyof typeof listedColumns>;

export interface ListOptions {
  userDeviceId?: string | undefined;
  limit: number;
  after?: DocumentCursor | undefined;
}

/**
 * A user's visible documents, newest first by (createdAt, id); `after` continues strictly past that
 * position. One statement built once per database (drizzle would render the SQL on every call, a
 * third of the listing's CPU, and PostgreSQL also skips parse and plan): a null device id or
 * cursor switches that condition off.
 */
export function prepareListVisible(db: Db): (userId: string, opts: ListOptions) => Promise<ListedDocument[]> {
  const deviceId = sql.placeholder('userDeviceId');
  const afterAt = sql.placeholder('afterAt');
  const q = db
    .select(listedColumns)
    .from(documents)
    .where(
      and(
        eq(documents.userId, sql.placeholder('userId')),
        eq(documents.state, 'ready'),
        sql`(${deviceId}::text is null or ${documents.userDeviceId} = ${deviceId})`,
        sql`(${afterAt}::timestamptz is null or (${documents.createdAt}, ${documents.id}) < (${afterAt}::timestamptz, ${sql.placeholder('afterId')}::text))`,
      ),
    )
    .orderBy(desc(documents.createdAt), desc(documents.id))
    .limit(sql.placeholder('limit'))
    .prepare('documents_list_visible');
  return (userId, opts) =>
    q.execute({
      userId,
      userDeviceId: opts.userDeviceId ?? null,
      afterAt: opts.after ? new Date(opts.after.createdAtMs).toISOString() : null,
      afterId: opts.after?.id ?? null,
      limit: opts.limit,
    });
}

/**
 * Serialises quota checks for one user until the transaction ends, so two concurrent uploads
 * cannot both fit under the quota the other one fills.
 */
export async function lockUserDocuments(tx: Tx, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`documents:${userId}`}, 0))`);
}

/** Bytes the user's documents hold, including ones still being deleted (their blobs still exist). */
export async function usedBytes(db: Db | Tx, userId: string): Promise<number> {
  const [row] = await db.select({ total: sum(documents.size) }).from(documents).where(eq(documents.userId, userId));
  return Number(row?.total ?? 0);
}

/** Every stored document (being deleted too: its blob still exists): how many and their bytes. */
export async function storedTotals(db: Db): Promise<{ count: number; bytes: number }> {
  const [row] = await db.select({ n: count(), total: sum(documents.size) }).from(documents);
  return { count: Number(row?.n ?? 0), bytes: Number(row?.total ?? 0) };
}

/** Hides a ready document from its owner; returns it, or undefined if not theirs or already going. */
export async function markDeleting(db: Db | Tx, userId: string, id: string): Promise<DocumentRow | undefined> {
  const [row] = await db
    .update(documents)
    .set({ state: 'deleting' })
    .where(and(eq(documents.id, id), visible(userId)))
    .returning();
  return row;
}

export async function deleteDocumentRow(db: Db, id: string): Promise<void> {
  await db.delete(documents).where(eq(documents.id, id));
}

/** Rows whose deletion was started but not finished (the process stopped in between). */
export async function listDeleting(db: Db, limit: number): Promise<DocumentRow[]> {
  return db.select().from(documents).where(eq(documents.state, 'deleting')).orderBy(documents.id).limit(limit);
}

/** Which of `keys` a row (in any state) still points to. */
export async function knownBlobKeys(db: Db, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .select({ key: documents.blobKey })
    .from(documents)
    .where(inArray(documents.blobKey, [...keys]));
  return new Set(rows.map((r) => r.key));
}
