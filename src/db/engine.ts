// Engine selection: PGlite (embedded, in-process WASM PostgreSQL) or PostgreSQL via `pg`.
// Both are driven through the same drizzle PgDatabase, schema and migrations.
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { sql } from 'drizzle-orm';
import * as schema from './schema.ts';

export type Db = PgDatabase<any, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** The rows of a raw `execute`: node-postgres and PGlite both answer `{ rows }`, which drizzle's types do not say. */
export const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;

export interface Database {
  kind: 'pglite' | 'postgres';
  db: Db;
  migrate(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /**
   * LISTEN on `channel`. `onLive(false)` means notifications may be missed from now on (the
   * listening connection was lost); `onLive(true)` follows once listening again. PGlite is one
   * in-process connection and is always live.
   */
  listen(channel: string, handlers: ListenHandlers): Promise<Listener>;
  close(): Promise<void>;
}

export interface ListenHandlers {
  onNotify(payload: string): void;
  onLive(live: boolean): void;
}

export interface Listener {
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../drizzle', import.meta.url));

export interface PgliteOptions {
  /** Directory for persistent data; omit for in-memory. */
  dataDir?: string;
  /** A dumped data directory (tarball) to start from, e.g. a migrated template in tests. */
  loadDataDir?: Blob;
}

export async function openPglite(opts: PgliteOptions = {}): Promise<Database & { client: PGlite }> {
  const client = new PGlite(opts.dataDir, opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    kind: 'pglite',
    client,
    db,
    migrate: async () => {
      await migratePglite(db as any, { migrationsFolder: MIGRATIONS_DIR });
    },
    ping: async () => {
      await client.query('select 1');
    },
    listen: async (channel, handlers) => {
      const unlisten = await client.listen(channel, (payload) => handlers.onNotify(payload));
      handlers.onLive(true);
      return {
        close: async () => {
          if (!client.closed) await unlisten();
        },
      };
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}

export interface PostgresOptions {
  url: string;
  poolSize?: number;
  /** How long a query may wait for the server's answer before it fails as "unavailable" (ms). */
  queryTimeoutMs?: number;
}

export function openPostgres(opts: PostgresOptions): Database & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    // Fail fast while the server is down so requests get a 503 instead of hanging.
    connectionTimeoutMillis: 2000,
    // A server that stops answering (network partition, frozen host) fails the query instead
    // of holding the request open; the error is classified as unavailable below.
    query_timeout: opts.queryTimeoutMs ?? 15_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return {
    kind: 'postgres',
    pool,
    db,
    migrate: () => withMigrationLock(opts.url, () => migratePg(db as any, { migrationsFolder: MIGRATIONS_DIR })),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    listen: (channel, handlers) => listenPostgres(opts.url, channel, handlers),
    close: async () => {
      await pool.end();
    },
  };
}

/** Session advisory lock key that serialises migrations across processes (any constant; ours). */
export const MIGRATION_LOCK_KEY = 0x6465_7669_6365_73n; // "devices"

/**
 * Runs `migrate` while holding the migration advisory lock, so replicas started together on one
 * empty database take turns: the second waits, then finds every migration applied (drizzle's
 * own CREATE SCHEMA/TABLE IF NOT EXISTS race otherwise). The lock is taken on a dedicated
 * connection without the pool's query timeout: waiting for another replica's long migration is
 * not an outage. The lock goes with the connection, so a migrator that dies frees it.
 */
async function withMigrationLock(url: string, migrate: () => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {}); // a lost connection fails the query in flight instead
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await migrate();
  } finally {
    await client.end().catch(() => {});
  }
}

const RELISTEN_DELAYS_MS = [100, 500, 1000, 2000, 5000];

/**
 * A dedicated connection (not from the pool, which it would hold forever) that LISTENs and
 * reconnects with backoff after losing the server; while it is down, `onLive(false)`.
 */
async function listenPostgres(url: string, channel: string, handlers: ListenHandlers): Promise<Listener> {
  let closed = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let attempt = 0;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    c.on('notification', (msg) => {
      if (msg.channel === channel) handlers.onNotify(msg.payload ?? '');
    });
    const lost = () => {
      if (client !== c) return;
      client = null;
      handlers.onLive(false);
      void c.end().catch(() => {});
      retry();
    };
    c.on('error', lost);
    c.on('end', lost);
    try {
      await c.connect();
      await c.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    } catch (e) {
      void c.end().catch(() => {});
      throw e;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    attempt = 0;
    handlers.onLive(true);
  };

  function retry() {
    if (closed || timer) return;
    const delay = RELISTEN_DELAYS_MS[Math.min(attempt++, RELISTEN_DELAYS_MS.length - 1)]!;
    timer = setTimeout(() => {
      timer = null;
      connect().catch(() => retry());
    }, delay);
    timer.unref();
  }

  handlers.onLive(false);
  try {
    await connect();
  } catch {
    retry(); // the server is down at start: serve uncached until it is back
  }
  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02',
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
  '53300', // too_many_connections
]);

/** True for errors that mean "the database is unreachable", which the API answers with 503. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && CONNECTION_ERROR_CODES.has(e.code)) return true;
    const msg = typeof e.message === 'string' ? e.message : '';
    if (/Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Query read timeout/i.test(msg)) return true;
  }
  return false;
}
