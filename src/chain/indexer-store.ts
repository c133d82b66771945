// The indexer's database side: load the rows a batch touches (locked), write the changed rows
// back in bulk, keep the cursor and the per-batch undo log in chain_blocks, and replay undo
// logs on a rewind. Only the indexer-owned columns of existing rows are ever written.
import { and, desc, eq, getTableColumns, gt, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db, Tx } from '../db/engine.ts';
import {
  aftermarketDevices,
  chainBlocks,
  chainCursor,
  integrations,
  manufacturers,
  metaTransactionRequests,
  nftPrivileges,
  syntheticDevices,
  userDevices,
} from '../db/schema.ts';
import {
  INDEXED_COLUMNS,
  emptyWorld,
  privilegeKey,
  type RowChange,
  type RowOf,
  type TableName,
  type World,
  type WorldKeys,
} from '../domain/chain-world.ts';

export const CURSOR_ID = 'registry';

export interface Cursor {
  blockNumber: bigint;
  blockHash: string;
}

const TABLES: { [T in TableName]: PgTable } = {
  device: aftermarketDevices,
  vehicle: userDevices,
  privilege: nftPrivileges,
  synthetic: syntheticDevices,
  manufacturer: manufacturers,
  integration: integrations,
};

/** Primary-key properties; every table but nft_privileges has a one-column key. */
const PRIMARY_KEYS: { [T in TableName]: readonly (keyof RowOf[T] & string)[] } = {
  device: ['tokenId'],
  vehicle: ['id'],
  privilege: ['tokenId', 'privilege', 'userAddress'],
  synthetic: ['id'],
  manufacturer: ['tokenId'],
  integration: ['tokenId'],
};

/** Tables with an updated_at the API shows: bumped whenever the indexer changes the row. */
const HAS_UPDATED_AT: ReadonlySet<TableName> = new Set(['device', 'vehicle', 'synthetic']);

const ROWS_PER_STATEMENT = 2000;
const KEYS_PER_QUERY = 5000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs `query` over `keys` in chunks and concatenates the rows. */
async function byChunks<K, R>(keys: Iterable<K>, query: (chunk: K[]) => Promise<R[]>): Promise<R[]> {
  const all = [...keys];
  if (all.length === 0) return [];
  const out: R[] = [];
  for (const c of chunks(all, KEYS_PER_QUERY)) out.push(...(await query(c)));
  return out;
}

// ----- cursor ---------------------------------------------------------------------------------

export async function readCursor(db: Db | Tx): Promise<Cursor | null> {
  const rows = await db.select().from(chainCursor).where(eq(chainCursor.id, CURSOR_ID)).limit(1);
  const row = rows[0];
  return row ? { blockNumber: row.blockNumber, blockHash: row.blockHash } : null;
}

/**
 * Locks the cursor row for this transaction and returns it. Missing, it is created at `initial`
 * (the block before the registry's deployment), which is also recorded as the first batch end,
 * so a rewind can always go back to the start while that record lasts. Replicas serialise on
 * this lock; one that finds the cursor moved discards its batch.
 */
export async function lockCursor(tx: Tx, initial: Cursor): Promise<Cursor> {
  const created = await tx
    .insert(chainCursor)
    .values({ id: CURSOR_ID, blockNumber: initial.blockNumber, blockHash: initial.blockHash })
    .onConflictDoNothing()
    .returning({ id: chainCursor.id });
  if (created.length > 0) {
    await tx.insert(chainBlocks).values({ number: initial.blockNumber, hash: initial.blockHash, undo: [] }).onConflictDoNothing();
  }
  const rows = await tx.select().from(chainCursor).where(eq(chainCursor.id, CURSOR_ID)).for('update');
  const row = rows[0]!;
  return { blockNumber: row.blockNumber, blockHash: row.blockHash };
}

export async function setCursor(tx: Tx, cursor: Cursor): Promise<void> {
  await tx
    .update(chainCursor)
    .set({ blockNumber: cursor.blockNumber, blockHash: cursor.blockHash, updatedAt: new Date() })
    .where(eq(chainCursor.id, CURSOR_ID));
}

// ----- loading --------------------------------------------------------------------------------

/**
 * `column IN (values)` with the values as ONE JSON parameter: thousands of keys cost one bind
 * value instead of thousands (building and binding those dominated big batches).
 */
function inJson(col: PgColumn, values: readonly (string | bigint)[], cast: 'numeric' | 'text'): SQL {
  const json = JSON.stringify(values.map(String));
  return sql`${col} in (select jsonb_array_elements_text(${json}::jsonb)::${sql.raw(cast)})`;
}

/** Loads (and row-locks) everything `keys` names into a fresh World. */
export async function loadWorld(tx: Tx, keys: WorldKeys): Promise<World> {
  const w = emptyWorld();
  const d = aftermarketDevices;
  for (const row of await byChunks(keys.deviceTokens, (c) => tx.select().from(d).where(inJson(d.tokenId, c, 'numeric')).for('update'))) {
    w.devices.set(row.tokenId.toString(), row);
    if (row.serial !== null) w.serialOwners.set(row.serial, row.tokenId.toString());
  }
  for (const row of await byChunks(keys.serials, (c) => tx.select({ tokenId: d.tokenId, serial: d.serial }).from(d).where(inJson(d.serial, c, 'text')))) {
    if (row.serial !== null) w.serialOwners.set(row.serial, row.tokenId.toString());
  }

  const m = metaTransactionRequests;
  const requests = await byChunks(keys.mintTxHashes, (c) =>
    tx
      .select({ hash: m.hash, userDeviceId: sql<string | null>`${m.subject} ->> 'userDeviceId'` })
      .from(m)
      .where(and(inJson(m.hash, c, 'text'), eq(m.kind, 'MintVehicle'))),
  );
  for (const r of requests) if (r.hash && r.userDeviceId) w.mintRequests.set(r.hash.toLowerCase(), r.userDeviceId);

  const u = userDevices;
  const requestIds = [...new Set(w.mintRequests.values())];
  const vehicleRows = [
    ...(await byChunks(keys.vehicleTokens, (c) => tx.select().from(u).where(inJson(u.tokenId, c, 'numeric')).for('update'))),
    ...(await byChunks(requestIds, (c) => tx.select().from(u).where(inJson(u.id, c, 'text')).for('update'))),
  ];
  for (const row of vehicleRows) {
    w.vehicles.set(row.id, row);
    if (row.tokenId !== null) w.vehicleByToken.set(row.tokenId.toString(), row.id);
  }

  const p = nftPrivileges;
  for (const row of await byChunks(keys.privilegeTokens, (c) => tx.select().from(p).where(inJson(p.tokenId, c, 'numeric')).for('update'))) {
    w.privileges.set(privilegeKey(row.tokenId, row.privilege, row.userAddress), row);
  }

  const s = syntheticDevices;
  const syntheticRows = [
    ...(await byChunks(keys.syntheticTokens, (c) => tx.select().from(s).where(inJson(s.tokenId, c, 'numeric')).for('update'))),
    ...(await byChunks(keys.syntheticAddresses, (c) => tx.select().from(s).where(inJson(s.address, c, 'text')).for('update'))),
  ];
  for (const row of syntheticRows) {
    w.synthetics.set(row.id, row);
    if (row.tokenId !== null) w.syntheticByToken.set(row.tokenId.toString(), row.id);
    w.syntheticByAddress.set(row.address, row.id);
  }

  for (const row of await byChunks(keys.manufacturerTokens, (c) => tx.select().from(manufacturers).where(inJson(manufacturers.tokenId, c, 'numeric')).for('update'))) {
    w.manufacturers.set(row.tokenId.toString(), row);
  }
  for (const row of await byChunks(keys.integrationTokens, (c) => tx.select().from(integrations).where(inJson(integrations.tokenId, c, 'numeric')).for('update'))) {
    w.integrations.set(row.tokenId.toString(), row);
  }
  return w;
}

// ----- writing --------------------------------------------------------------------------------

function columnOf(table: PgTable, prop: string): PgColumn {
  return (table as unknown as Record<string, PgColumn>)[prop]!;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A row as JSON keyed by column name, for jsonb_populate_recordset (bigints as strings, exact). */
function jsonRow(table: PgTable, row: RowOf[TableName]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const values = row as unknown as Record<string, unknown>;
  for (const [prop, col] of Object.entries(getTableColumns(table))) {
    const v = values[prop];
    out[col.name] = typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/**
 * Rows as ONE jsonb parameter expanded by jsonb_populate_recordset: a bulk write costs one bind
 * value whatever its size (the same SQL works on PostgreSQL and PGlite).
 */
function rowsParam(table: PgTable, rows: readonly RowOf[TableName][]): SQL {
  return sql`jsonb_populate_recordset(null::${table}, ${JSON.stringify(rows.map((r) => jsonRow(table, r)))}::jsonb)`;
}

const pkColumns = (table: TableName) => (PRIMARY_KEYS[table] as readonly string[]).map((p) => quote(columnOf(TABLES[table], p).name)).join(', ');

/**
 * Brings each row to its `target` image: deleted when null, otherwise inserted whole when
 * missing or, when present, only its indexer-owned columns overwritten. Deletes run first so a
 * freed unique value (serial, token id) can be taken by another row in the same write.
 */
export async function writeRows(tx: Tx, targets: readonly { table: TableName; key: string; before: RowOf[TableName] | null; target: RowOf[TableName] | null }[]): Promise<void> {
  const order: TableName[] = ['manufacturer', 'integration', 'vehicle', 'device', 'synthetic', 'privilege'];
  for (const table of [...order].reverse()) {
    const gone = targets.filter((t) => t.table === table && t.target === null && t.before !== null).map((t) => t.before!);
    const t = TABLES[table];
    const pk = sql.raw(pkColumns(table));
    for (const c of chunks(gone, ROWS_PER_STATEMENT)) {
      await tx.execute(sql`delete from ${t} where (${pk}) in (select ${pk} from ${rowsParam(t, c)})`);
    }
  }
  for (const table of order) {
    const rows = targets.filter((t) => t.table === table && t.target !== null).map((t) => t.target!);
    if (rows.length === 0) continue;
    const t = TABLES[table];
    const columns = sql.raw(Object.values(getTableColumns(t)).map((c) => quote(c.name)).join(', '));
    const updates = (INDEXED_COLUMNS[table] as readonly string[]).map((p) => `${quote(columnOf(t, p).name)} = excluded.${quote(columnOf(t, p).name)}`);
    if (HAS_UPDATED_AT.has(table)) updates.push(`"updated_at" = now()`);
    for (const c of chunks(rows, ROWS_PER_STATEMENT)) {
      await tx.execute(
        sql`insert into ${t} (${columns}) select ${columns} from ${rowsParam(t, c)} on conflict (${sql.raw(pkColumns(table))}) do update set ${sql.raw(updates.join(', '))}`,
      );
    }
  }
}

/** Applies a batch's changes. */
export async function writeChanges(tx: Tx, changes: readonly RowChange[]): Promise<void> {
  await writeRows(tx, changes.map((c) => ({ table: c.table, key: c.key, before: c.before, target: c.after })));
}

// ----- undo log -------------------------------------------------------------------------------

/** One undo entry: the row as it was before the batch (null: the batch created it). */
export interface UndoEntry {
  t: TableName;
  k: string;
  b: unknown;
}

// JSON with tagged bigints and dates, so images round-trip through jsonb exactly.
function encode(value: unknown): unknown {
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (value instanceof Date) return { $d: value.toISOString() };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && typeof o.$n === 'string') return BigInt(o.$n);
    if (keys.length === 1 && typeof o.$d === 'string') return new Date(o.$d);
    return Object.fromEntries(keys.map((k) => [k, decode(o[k])]));
  }
  return value;
}

export function undoLog(changes: readonly RowChange[]): UndoEntry[] {
  return changes.map((c) => ({ t: c.table, k: c.key, b: encode(c.before) }));
}

/** Records an applied batch: its last block's hash (for reorg checks) and its undo log. */
export async function recordBatch(tx: Tx, block: Cursor, undo: UndoEntry[]): Promise<void> {
  await tx
    .insert(chainBlocks)
    .values({ number: block.blockNumber, hash: block.blockHash, undo })
    .onConflictDoUpdate({ target: chainBlocks.number, set: { hash: block.blockHash, undo } });
  await setCursor(tx, block);
}

/** Drops batch records (and their undo logs) older than `keepAfter`, always keeping the newest. */
export async function pruneBatches(tx: Tx, keepAfter: bigint, newest: bigint): Promise<void> {
  await tx.delete(chainBlocks).where(and(lt(chainBlocks.number, keepAfter), lt(chainBlocks.number, newest)));
}

/** Recorded batch ends, newest first, below `below` (exclusive). */
export async function batchesBelow(db: Db | Tx, below: bigint, limit: number): Promise<{ number: bigint; hash: string }[]> {
  return db
    .select({ number: chainBlocks.number, hash: chainBlocks.hash })
    .from(chainBlocks)
    .where(lt(chainBlocks.number, below))
    .orderBy(desc(chainBlocks.number))
    .limit(limit);
}

/**
 * Undoes every batch recorded after `fork` (newest first), deletes their records and moves the
 * cursor to `fork`. Returns how many rows were restored, and each batch's undone changes (before:
 * the row as the batch left it, after: as restored; newest batch first) for the reorg's events.
 */
export async function rewindTo(tx: Tx, fork: Cursor): Promise<{ restored: number; undone: RowChange[][] }> {
  const batches = await tx.select().from(chainBlocks).where(gt(chainBlocks.number, fork.blockNumber)).orderBy(desc(chainBlocks.number)).for('update');
  let restored = 0;
  const undone: RowChange[][] = [];
  for (const batch of batches) {
    const entries = (batch.undo as UndoEntry[]).map((e) => ({ table: e.t, key: e.k, target: decode(e.b) as RowOf[TableName] | null }));
    const current = await currentRows(tx, entries);
    const changes = entries.map((e) => ({ table: e.table, key: e.key, before: current.get(`${e.table}:${e.key}`) ?? null, after: e.target }));
    await writeRows(
      tx,
      changes.map((c) => ({ table: c.table, key: c.key, before: c.after ?? c.before, target: c.after })),
    );
    undone.push(changes);
    restored += entries.length;
  }
  await tx.delete(chainBlocks).where(gt(chainBlocks.number, fork.blockNumber));
  await setCursor(tx, fork);
  return { restored, undone };
}

/** The current rows (by table and key) that undo entries name. */
async function currentRows(tx: Tx, entries: { table: TableName; key: string }[]): Promise<Map<string, RowOf[TableName]>> {
  const out = new Map<string, RowOf[TableName]>();
  for (const table of new Set(entries.map((e) => e.table))) {
    const keys = entries.filter((e) => e.table === table).map((e) => e.key);
    if (table === 'privilege') {
      const conds = keys.map((k) => {
        const [token = '0', priv = '0', user = ''] = k.split('|');
        return and(eq(nftPrivileges.tokenId, BigInt(token)), eq(nftPrivileges.privilege, Number(priv)), eq(nftPrivileges.userAddress, user))!;
      });
      for (const c of chunks(conds, ROWS_PER_STATEMENT)) {
        for (const row of await tx.select().from(nftPrivileges).where(or(...c))) out.set(`privilege:${privilegeKey(row.tokenId, row.privilege, row.userAddress)}`, row);
      }
      continue;
    }
    const prop = (PRIMARY_KEYS[table] as readonly string[])[0]!;
    const col = columnOf(TABLES[table], prop);
    const values: unknown[] = table === 'vehicle' || table === 'synthetic' ? keys : keys.map((k) => BigInt(k));
    for (const c of chunks(values, KEYS_PER_QUERY)) {
      for (const row of (await tx.select().from(TABLES[table]).where(inArray(col, c))) as Record<string, unknown>[]) {
        out.set(`${table}:${String(row[prop])}`, row as unknown as RowOf[TableName]);
      }
    }
  }
  return out;
}
