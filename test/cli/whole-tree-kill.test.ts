// Embedded mode: a kill -9 of the whole process tree (server, anvil's watchdog and anvil at once,
// as a container stop does) right after the API has shown a mint loses nothing: every restart
// succeeds and still shows it. ANVIL_STATE_INTERVAL is an hour here, so nothing but the save
// before indexing (persistThrough) can have put the mint's block on disk.
// scripts/whole-tree-kill.sh runs the same many times.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { killAllClis, runCli, spawnCli, tempDir } from '../helpers/cli.ts';

const RUNS = 2;

/** `serve` on a kernel-chosen port; a first start (migrate + deploy) on a busy CI machine may take minutes. */
async function serve(dataDir: string, env: Record<string, string>) {
  const p = spawnCli(['serve'], { DATA_DIR: dataDir, PORT: '0', ...env });
  const m = await p.waitFor('stderr', /listening on (http:\/\/\S+)/, 240_000);
  return { ...p, url: m[1]!.replace('localhost', '127.0.0.1') };
}

async function status(url: string, token: string): Promise<number> {
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function until200(url: string, token: string, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let last = 0;
  while (Date.now() < deadline) {
    last = await status(url, token);
    if (last === 200) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

describe('a whole-tree kill in embedded mode', () => {
  const dataDir = tempDir('tree-kill');
  after(async () => {
    await killAllClis();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no mint the API has shown: every restart succeeds and shows every earlier mint', async () => {
    const env = { ANVIL_STATE_INTERVAL: '3600' };
    const serials: string[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const server = await serve(dataDir, env);
      const token = (await runCli(['token', '--sub', 'tree-kill'], { DATA_DIR: dataDir })).stdout.trim();
      for (const s of serials) {
        assert.equal(await status(`${server.url}/v1/aftermarket/device/by-serial/${s}`, token), 200, `device ${s} after restart ${run}`);
      }
      if (run === RUNS) break;
      const serial = `tree-kill-${run}-${Date.now()}`;
      const minted = await runCli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', serial, '--dev-key'], { DATA_DIR: dataDir });
      assert.equal(minted.code, 0, minted.stderr);
      assert.equal(await until200(`${server.url}/v1/aftermarket/device/by-serial/${serial}`, token, 60_000), 200, `device ${serial} shown`);
      serials.push(serial);
      process.kill(-server.pid, 'SIGKILL');
      await server.exited;
    }
  });
});
