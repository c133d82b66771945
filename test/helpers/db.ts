// A fresh, migrated database per test file: a copy of a migrated PGlite template directory
// (initdb costs seconds, a copy well under one), or — when DATABASE_URL is set — a new PostgreSQL database
// on that server, dropped afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import { MIGRATIONS_DIR, openPglite, openPostgres, type Database } from '../../src/db/engine.ts';

export interface TestDatabase extends Database {
  /** Closes the connection and removes the database. */
  destroy(): Promise<void>;
  /** Connection string of the test database (PostgreSQL only). */
  url?: string;
  /** PGlite data directory (PGlite only): another process may open it once this one has closed it. */
  dataDir?: string;
}

function migrationsHash(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else h.update(name).update(fs.readFileSync(p));
    }
  };
  walk(MIGRATIONS_DIR);
  return h.digest('hex').slice(0, 16);
}

/** A migrated PGlite data directory, built once per migration set and copied per test file. */
async function pgliteTemplateDir(): Promise<string> {
  const dir = path.resolve(MIGRATIONS_DIR, '..', '.tmp', `pglite-template-${migrationsHash()}`);
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return dir;
  // Parallel test files may race to build it; each builds its own and renames it into place.
  const tmp = `${dir}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(tmp), { recursive: true }); // PGlite creates only the last level
  const db = await openPglite({ dataDir: tmp });
  await db.migrate();
  await db.close();
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
  }
  return dir;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `t_${crypto.randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(serverUrl);
    u.pathname = `/${name}`;
    const database = openPostgres({ url: u.toString(), poolSize: 5 });
    await database.migrate();
    return {
      ...database,
      url: u.toString(),
      destroy: async () => {
        await database.close();
        const c = new pg.Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-test-pg-'));
  fs.cpSync(await pgliteTemplateDir(), dataDir, { recursive: true });
  const database = await openPglite({ dataDir });
  return {
    ...database,
    dataDir,
    destroy: async () => {
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
