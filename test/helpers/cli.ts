// Runs the real CLI (`node --import tsx src/main.ts …`) as a child process with a controlled
// environment. Each child leads its own process group (the server may start anvil), is tracked,
// and is killed with its group by `killAllClis()` (call it in `after`), and on process exit as a
// last resort, so a failing test never leaves a server or an anvil behind.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Variables that choose the mode or engines; removed from the inherited environment. */
const CONFIG_VARS = [
  'NODE_ENV',
  'DEVICES_API_MODE',
  'DATABASE_URL',
  'DATA_DIR',
  'PORT',
  'HOST',
  'PUBLIC_BASE_URL',
  'JWT_JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'S3_BUCKET',
  'S3_REGION',
  'S3_ENDPOINT',
  'ALLOW_LOCAL_BLOBS',
  'MIGRATE_ON_START',
  'LOG_LEVEL',
  'LOG_FORMAT',
];

export function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CONFIG_VARS) delete out[k];
  return { ...out, ...env };
}

/** Children not yet reaped, with the promise of their (and their group's) end. */
const running = new Map<ChildProcess, Promise<unknown>>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-child.pid!, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

/** Kills what is left of the child's group and waits (bounded) until none of it runs, so nothing writes into a directory the test is about to remove. */
async function reapGroup(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100 && killGroup(child, 'SIGKILL'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

process.on('exit', () => {
  for (const c of running.keys()) killGroup(c, 'SIGKILL');
});

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` in the stream; rejects if the process exits first or after `timeoutMs`. */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves once `re` has matched `n` times in the stream. */
  waitForCount(stream: 'stdout' | 'stderr', re: RegExp, n: number, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const out = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out.stdout += d;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    out.stderr += d;
    notify();
  });
  let done = false;
  /** Resolves with the first non-null `test()` result, re-checked on every output chunk. */
  function until<T>(stream: 'stdout' | 'stderr', test: () => T | null, what: string, timeoutMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        waiters.delete(check);
        reject(new Error(`${why} waiting for ${what} on ${stream}\nstdout: ${out.stdout.slice(-2000)}\nstderr: ${out.stderr.slice(-2000)}`));
      };
      const timer = setTimeout(() => fail('timed out'), timeoutMs);
      function check() {
        const r = test();
        if (r !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        } else if (done) fail('exited');
      }
      waiters.add(check);
      check();
    });
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      // whatever it started and left behind (an anvil still dumping its state) goes too
      void reapGroup(child).then(() => {
        done = true;
        running.delete(child);
        notify();
        resolve({ code, signal });
      });
    });
  });
  running.set(child, exited);
  return {
    child,
    pid: child.pid!,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    exited,
    waitFor: (stream, re, timeoutMs) => until(stream, () => re.exec(out[stream]), String(re), timeoutMs),
    waitForCount: async (stream, re, n, timeoutMs) => {
      const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
      await until(stream, () => ((out[stream].match(g)?.length ?? 0) >= n ? true : null), `${n} × ${re}`, timeoutMs);
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  const p = spawnCli(args, env);
  const timer = setTimeout(() => killGroup(p.child, 'SIGKILL'), timeoutMs);
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Kills every CLI child still running, with its process group, and waits for them to exit. */
export async function killAllClis(): Promise<void> {
  const children = [...running];
  for (const [c] of children) killGroup(c, 'SIGKILL');
  await Promise.all(children.map(([, exited]) => exited));
}

/** A fresh temp directory; remove it with `fs.rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `devices-api-${prefix}-`));
}

/** Starts `serve` in embedded mode on a kernel-chosen port and waits until it prints its URL. */
export async function startServe(dataDir: string, env: Record<string, string> = {}): Promise<CliProcess & { url: string }> {
  const p = spawnCli(['serve'], { DATA_DIR: dataDir, PORT: '0', ...env });
  const m = await p.waitFor('stderr', /listening on (http:\/\/\S+)/);
  return { ...p, url: m[1]!.replace('localhost', '127.0.0.1') };
}
