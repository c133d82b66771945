// Replicas started together on one empty PostgreSQL database migrate at the same moment: the
// advisory lock makes the second wait for the first and then find nothing to do.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { openPostgres } from '../../src/db/engine.ts';

const serverUrl = process.env.DATABASE_URL;

async function admin(query: string): Promise<void> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(query);
  } finally {
    await c.end();
  }
}

describe('migrations started together', { skip: serverUrl ? false : 'DATABASE_URL is not set: the migration race needs PostgreSQL' }, () => {
  it('both succeed on an empty database, three processes at once, several tries', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const name = `t_race_${crypto.randomBytes(5).toString('hex')}`;
      await admin(`CREATE DATABASE ${name}`);
      const u = new URL(serverUrl!);
      u.pathname = `/${name}`;
      const replicas = [0, 1, 2].map(() => openPostgres({ url: u.toString(), poolSize: 2 }));
      try {
        const results = await Promise.allSettled(replicas.map((r) => r.migrate()));
        assert.deepEqual(
          results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok')),
          ['ok', 'ok', 'ok'],
        );
        const rows = await replicas[0]!.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        const applied = (rows as unknown as { rows: { n: number }[] }).rows[0]!.n;
        assert.ok(applied > 0, 'the migrations were applied once each');
        const distinct = await replicas[0]!.db.execute(sql`select count(distinct hash)::int as n from drizzle.__drizzle_migrations`);
        assert.equal((distinct as unknown as { rows: { n: number }[] }).rows[0]!.n, applied, 'no migration was recorded twice');
      } finally {
        for (const r of replicas) await r.close();
        await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }
  });
});
