// Start-up times of the compiled build, as a user meets them (`npm run bench:startup`):
//   - `devices-api --help` and `devices-api token …`: wall time of the bin with plain node, best and
//     median of BENCH_STARTUP_RUNS (default 5); target < 0.5 s
//   - the server's first start in a new DATA_DIR (initdb, migrations, anvil, registry deploy) until
//     GET /ready answers 200; target < 20 s
//   - a restart on that DATA_DIR until /ready; target < 5 s (BENCH_STARTUP_RUNS restarts, best and median)
// BENCH_NODE (default: this node) picks the node binary, e.g. BENCH_NODE=/path/to/node24/bin/node
// (not NODE: npm sets that to its own node for every script).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'devices-api.mjs');
const NODE = process.env.BENCH_NODE ?? process.execPath;
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const ADDRESS = '0x52908400098527886e0f7030069857d2e4169ee7';

const baseEnv = (dataDir: string): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  for (const k of ['DATABASE_URL', 'NODE_ENV', 'DEVICES_API_MODE', 'PORT', 'HOST']) delete env[k];
  return env;
};

const stats = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]! };
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function timeCli(args: string[], dataDir: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(NODE, [BIN, ...args], { cwd: ROOT, env: baseEnv(dataDir), encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`devices-api ${args.join(' ')} failed: ${r.stderr}`);
    out.push(ms);
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `serve` on dataDir, resolves with the ms until /ready answered 200, then stops it (and anvil). */
async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(NODE, [BIN, 'serve'], { cwd: ROOT, env: { ...baseEnv(dataDir), PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited: ${stderr.slice(-1000)}`);
      if (performance.now() - t0 > 180_000) throw new Error('not ready after 180 s');
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    process.kill(child.pid!, 'SIGTERM');
    await exited;
    // anvil stops with the server; make sure nothing of the group is left
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-bench-startup-'));
try {
  const version = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`devices-api start-up, ${new Date().toISOString()}, node ${version}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const help = stats(timeCli(['--help'], dataDir));
  console.log(`--help                 best ${fmt(help.best)}, median ${fmt(help.median)} of ${RUNS}   (target < 0.5 s)`);
  const token = stats(timeCli(['token', '--sub', 'alice', '--address', ADDRESS], dataDir));
  console.log(`token                  best ${fmt(token.best)}, median ${fmt(token.median)} of ${RUNS}   (target < 0.5 s)`);
  const serveDir = path.join(dataDir, 'serve');
  console.log(`first start to /ready  ${fmt(await timeStart(serveDir))}   (target < 20 s)`);
  const restarts: number[] = [];
  for (let i = 0; i < RUNS; i++) restarts.push(await timeStart(serveDir));
  const r = stats(restarts);
  console.log(`restart to /ready      best ${fmt(r.best)}, median ${fmt(r.median)} of ${RUNS}   (target < 5 s)`);
  console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
