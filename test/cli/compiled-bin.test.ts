// The `devices-api` bin as users run it: plain node on the compiled build in dist/ (made by
// `npm ci`), no tsx. `--help` and `token` must not load the server's heavy dependencies, which is
// what keeps them well under a second (bench/RESULTS.md, "CLI start").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { REPO_ROOT, cliEnv, tempDir } from '../helpers/cli.ts';

const BIN = path.join(REPO_ROOT, 'bin', 'devices-api.mjs');
const RECORDER = path.join(REPO_ROOT, 'test', 'cli', 'fixtures', 'record-imports.mjs');
const HEAVY = ['fastify', 'viem', 'ox', '@electric-sql/pglite', 'pg', 'drizzle-orm', 'pino', '@aws-sdk', 'sql.js', 'tsx'];

function runBin(args: string[], env: Record<string, string>, nodeFlags: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeFlags, BIN, ...args], { cwd: REPO_ROOT, env: cliEnv(env), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The packages (under node_modules) a bin invocation resolved. */
async function packagesLoaded(args: string[], env: Record<string, string>): Promise<Set<string>> {
  const file = path.join(dir, `imports-${args[0]}.txt`);
  const r = await runBin(args, { ...env, RECORD_IMPORTS_FILE: file }, ['--import', RECORDER]);
  assert.equal(r.code, 0, r.stderr);
  const pkgs = new Set<string>();
  for (const url of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) pkgs.add(m[1]!);
  }
  return pkgs;
}

const dir = tempDir('compiled-bin');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the compiled devices-api bin', () => {
  it('exists after npm ci (dist/main.js is built by prepare)', () => {
    assert.ok(fs.existsSync(path.join(REPO_ROOT, 'dist', 'main.js')), 'dist/main.js is missing: run `npm run build`');
  });

  it('answers --help with every command', async () => {
    const r = await runBin(['--help'], { DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['serve', 'migrate', 'token', 'worker', 'devices', 'seed']) assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  });

  it('prints a dev token with the checksummed address', async () => {
    const r = await runBin(['token', '--sub', 'alice', '--address', '0x52908400098527886e0f7030069857d2e4169ee7'], { DATA_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    const claims = decodeJwt(r.stdout.trim());
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.ethereum_address, '0x52908400098527886E0F7030069857D2E4169EE7');
  });

  it('loads none of the server dependencies for --help or token', async () => {
    for (const args of [['--help'], ['token', '--sub', 'alice', '--address', '0x52908400098527886e0f7030069857d2e4169ee7']]) {
      const loaded = await packagesLoaded(args, { DATA_DIR: dir });
      assert.ok(loaded.has('commander'), `the recorder saw commander load for ${args[0]}`);
      const heavy = HEAVY.filter((p) => [...loaded].some((l) => l === p || l.startsWith(`${p}/`)));
      assert.deepEqual(heavy, [], `${args[0]} loaded ${heavy.join(', ')}`);
    }
  });
});
