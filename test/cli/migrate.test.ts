// `devices-api migrate` applies the migration set, and running it again changes nothing: on
// PGlite in a data directory, and on PostgreSQL (a throwaway database) when DATABASE_URL is set.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS_DIR } from '../../src/db/engine.ts';
import { LOCK_FILE } from '../../src/db/data-dir-lock.ts';
import { killAllClis, runCli, tempDir } from '../helpers/cli.ts';
import { PRODUCTION_ENV } from '../helpers/production-env.ts';

const journal = JSON.parse(fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
const MIGRATIONS = journal.entries.length;

type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** What a migrated database must look like: every migration recorded once, the schema's tables present. */
async function assertMigrated(query: Query) {
  const [row] = await query('select count(*)::int as n from drizzle.__drizzle_migrations');
  assert.equal(row!.n, MIGRATIONS, 'every migration is recorded exactly once');
  const tables = (await query("select table_name from information_schema.tables where table_schema = 'public'")).map((r) => r.table_name);
  assert.ok(tables.includes('user_devices'), `user_devices exists among ${tables.join(', ')}`);
}

describe('devices-api migrate', () => {
  after(() => killAllClis());

  it('migrates a PGlite data directory, idempotently, and releases the directory', async () => {
    const dataDir = tempDir('migrate');
    try {
      for (let run = 1; run <= 2; run++) {
        const r = await runCli(['migrate'], { DATA_DIR: dataDir });
        assert.equal(r.code, 0, `run ${run}: ${r.stderr}`);
        assert.match(r.stderr, /migrations applied \(pglite\)/);
        assert.equal(fs.existsSync(path.join(dataDir, LOCK_FILE)), false, 'the lock is released');
      }
      const db = new PGlite(path.join(dataDir, 'pg'));
      try {
        await assertMigrated(async (sql) => (await db.query<Record<string, unknown>>(sql)).rows);
      } finally {
        await db.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  const serverUrl = process.env.DATABASE_URL;
  it(
    'migrates a PostgreSQL database in production mode, idempotently',
    { skip: serverUrl ? false : 'DATABASE_URL is not set: run with DATABASE_URL=postgres://… to test migrate on PostgreSQL' },
    async () => {
      const name = `t_migrate_${crypto.randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      const u = new URL(serverUrl!);
      u.pathname = `/${name}`;
      const client = new pg.Client({ connectionString: u.toString() });
      try {
        for (let run = 1; run <= 2; run++) {
          const r = await runCli(['migrate'], { ...PRODUCTION_ENV, DATABASE_URL: u.toString() });
          assert.equal(r.code, 0, `run ${run}: ${r.stderr}`);
          assert.match(r.stderr, /migrations applied \(postgres\)/);
        }
        await client.connect();
        await assertMigrated(async (sql) => (await client.query(sql)).rows);
      } finally {
        await client.end().catch(() => {});
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
  );

  it('exits non-zero with the reason when PostgreSQL cannot be reached', async () => {
    // A port nothing listens on: bind one, note it, and close it.
    const net = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await runCli(['migrate'], { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nothing` });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: .*ECONNREFUSED/m);
  });
});
