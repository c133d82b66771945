import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc } from 'drizzle-orm';
import { runDtcImport } from '../../src/cli/dtc-import.ts';
import { dtcDescriptions } from '../../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('devices-api dtc import', () => {
  let database: TestDatabase;
  let dir: string;
  let opened: number;

  const file = (name: string, lines: string[]) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, lines.join('\n') + '\n');
    return p;
  };
  const run = async (p: string, opts: { replace?: boolean; batchSize?: number } = {}) => {
    let stderr = '';
    const code = await runDtcImport(p, opts, {
      stderr: { write: (s: string) => (stderr += s) },
      open: async () => {
        opened++;
        return { database, close: async () => {} };
      },
    });
    return { code, stderr };
  };
  const stored = async () =>
    (await database.db.select().from(dtcDescriptions).orderBy(asc(dtcDescriptions.code), asc(dtcDescriptions.make))).map((r) => [
      r.code,
      r.make,
      r.description,
    ]);

  before(async () => {
    database = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-dtc-import-'));
  });
  beforeEach(async () => {
    opened = 0;
    await database.db.delete(dtcDescriptions);
  });
  after(async () => {
    await database.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('imports titles for every make and per make, with a summary on stderr', async () => {
    const p = file('ok.tsv', ['code\tmake\tdescription', '# from a scan tool', 'p0420\t\tCatalyst efficiency low', 'P1234\tFord\tFord thing']);
    const r = await run(p);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await stored(), [
      ['P0420', '', 'Catalyst efficiency low'],
      ['P1234', 'ford', 'Ford thing'],
    ]);
    assert.match(r.stderr, /imported 2 titles .*1 for every make, 1 make-specific.*2 new, 0 updated/);
  });

  it('updates titles imported before and keeps the others', async () => {
    await run(file('a.tsv', ['P0420\t\tOld', 'P0300\t\tMisfire']));
    const r = await run(file('b.tsv', ['P0420\t\tNew']));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /0 new, 1 updated/);
    assert.deepEqual(await stored(), [
      ['P0300', '', 'Misfire'],
      ['P0420', '', 'New'],
    ]);
  });

  it('with --replace makes the file the whole set', async () => {
    await run(file('a.tsv', ['P0420\t\tOld', 'P0300\t\tMisfire']));
    const r = await run(file('b.tsv', ['P0420\t\tNew']), { replace: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 previously imported titles replaced/);
    assert.deepEqual(await stored(), [['P0420', '', 'New']]);
  });

  it('imports in batches, reporting progress per batch', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `P0${(0x100 + i).toString(16).toUpperCase()}\t\tTitle ${i}`);
    const r = await run(file('many.tsv', lines), { batchSize: 10 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stored()).length, 25);
    assert.deepEqual(r.stderr.match(/\d+\/25 rows/g), ['10/25 rows', '20/25 rows', '25/25 rows']);
  });

  it('rejects a bad file with every bad line numbered, without opening the database', async () => {
    await run(file('a.tsv', ['P0420\t\tKept']));
    opened = 0;
    const p = file('bad.tsv', ['P0420\t\tWould replace', 'Z0100\t\tNot a code', 'P0300\tonly two fields', 'P0301\t\t']);
    const r = await run(p);
    assert.equal(r.code, 1);
    assert.equal(opened, 0);
    assert.match(r.stderr, new RegExp(`${path.basename(p)}:2: "Z0100" is not a DTC`));
    assert.match(r.stderr, /bad\.tsv:3: expected 3 tab-separated fields/);
    assert.match(r.stderr, /bad\.tsv:4: P0301: description is empty/);
    assert.match(r.stderr, /3 bad lines .*nothing was imported/);
    assert.deepEqual(await stored(), [['P0420', '', 'Kept']]);
  });

  it('reports a missing file and an empty one', async () => {
    const missing = await run(path.join(dir, 'missing.tsv'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*missing\.tsv: ENOENT/);
    const empty = await run(file('empty.tsv', ['# nothing here']));
    assert.equal(empty.code, 0);
    assert.match(empty.stderr, /no titles; nothing to do/);
    assert.equal(opened, 0);
  });

  it('leaves the previous titles untouched when the import fails half way', async () => {
    await run(file('a.tsv', ['P0420\t\tKept']));
    let stderr = '';
    const code = await runDtcImport(
      file('b.tsv', ['P0420\t\tNew', 'P0300\t\tMisfire']),
      { replace: true, batchSize: 1 },
      {
        stderr: { write: (s: string) => (stderr += s) },
        open: async () => ({
          // A database whose second batch fails: the transaction must roll the first back.
          database: failingAfter(database, 3),
          close: async () => {},
        }),
      },
    );
    assert.equal(code, 1);
    assert.match(stderr, /1\/2 rows/, 'the first batch went in before the failure');
    assert.match(stderr, /failed, nothing was imported: simulated failure/);
    assert.deepEqual(await stored(), [['P0420', '', 'Kept']]);
  });

  it('exits non-zero from the real command line on a bad file', async () => {
    const p = file('bad.tsv', ['P0420\t\tfine', 'P0420X\t\tbad']);
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: path.join(dir, 'data') };
    delete env.DATABASE_URL;
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'src/main.ts', 'dtc', 'import', p], { cwd: REPO_ROOT, env }, (err, _stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
      });
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /bad\.tsv:2: "P0420X" is not a DTC/);
  });
});

/** Wraps a database so that, inside a transaction, the statement number `n` (1-based) throws. */
function failingAfter(database: TestDatabase, n: number): TestDatabase {
  const db = new Proxy(database.db, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return (fn: (tx: any) => Promise<unknown>) =>
        target.transaction(async (tx) => {
          let count = 0;
          const wrapped = new Proxy(tx, {
            get(t, p, r) {
              const v = Reflect.get(t, p, r);
              if ((p === 'insert' || p === 'delete') && typeof v === 'function') {
                return (...args: unknown[]) => {
                  if (++count >= n) throw new Error('simulated failure');
                  return v.apply(t, args);
                };
              }
              return v;
            },
          });
          return fn(wrapped);
        });
    },
  });
  return { ...database, db };
}
