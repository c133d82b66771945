// Runs anvil (the local EVM node shipped in @foundry-rs/anvil) as a child process on loopback.
//
// Leaks: stop() ends the process; if the parent exits normally without calling it, an 'exit'
// hook still sends SIGTERM. A parent killed with SIGKILL cannot clean up, and anvil (which has no
// "exit with parent" option) then keeps running until killed by its pid — unless started with
// `exitWithParent`, which puts a watchdog between us and anvil.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

/** Foundry's default dev mnemonic: the well-known, funded, throwaway accounts. */
export const DEFAULT_ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

export interface AnvilOptions {
  /** Port on 127.0.0.1; 0 or absent lets the OS pick a free one. */
  port?: number;
  /** Chain state file: loaded at start if present, dumped on SIGTERM (anvil `--state`). */
  statePath?: string;
  /** Also dump the state every N seconds (anvil `--state-interval`); needs statePath. */
  stateInterval?: number;
  /** Seconds between blocks; absent = a block per transaction (automine). */
  blockTime?: number;
  chainId?: number;
  mnemonic?: string;
  /** Number of dev accounts to fund (anvil default 10). */
  accounts?: number;
  /** Explicit anvil binary; default: the platform package installed with @foundry-rs/anvil. */
  binaryPath?: string;
  /** Further anvil flags, appended as given. */
  extraArgs?: string[];
  /** How long to wait for anvil to answer JSON-RPC before giving up. */
  startupTimeoutMs?: number;
  /**
   * End anvil when this process dies, even by SIGKILL (which runs no exit hook): anvil then runs
   * under a small POSIX sh watchdog that SIGTERMs it — so it still dumps its state — once the
   * pipe from this process closes. `process` is then the watchdog; stop() works the same.
   * Not available on Windows (ignored there).
   */
  exitWithParent?: boolean;
}

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM (anvil dumps `--state` then), wait for exit; SIGKILL if it hangs. Idempotent. */
  stop(): Promise<void>;
}

const PLATFORM_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

// $0 = a label, "$@" = the anvil command. Our stdin pipe reaches EOF only when this process is
// gone; the watcher then SIGTERMs anvil. A SIGTERM to the watchdog is passed on, and it exits
// with anvil's status once anvil has finished (and dumped its state).
const WATCHDOG_SCRIPT = `exec 3<&0
"$@" </dev/null &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT HUP
{ while read -r _; do :; done; kill -TERM "$pid" 2>/dev/null; } <&3 &
watcher=$!
exec 3<&-
code=0
while :; do
  wait "$pid"; code=$?
  kill -0 "$pid" 2>/dev/null || break
done
kill "$watcher" 2>/dev/null
exit "$code"`;
const OUTPUT_TAIL_CHARS = 4000;
const STOP_GRACE_MS = 15_000;

/** Path of the anvil binary from the platform package (e.g. @foundry-rs/anvil-linux-amd64). */
export function resolveAnvilBinary(): string {
  const arch = PLATFORM_ARCH[process.arch];
  if (!arch) throw new Error(`anvil: unsupported architecture ${process.arch}`);
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  // Resolve relative to @foundry-rs/anvil, which owns the platform package as an optional dependency.
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    const wrapper = createRequire(require.resolve('@foundry-rs/anvil/package.json'));
    pkgJson = wrapper.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`anvil: package ${pkg} is not installed (it comes with @foundry-rs/anvil)`);
  }
  const binary = join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(binary)) throw new Error(`anvil: binary missing at ${binary}`);
  return binary;
}

export function anvilArgs(opts: AnvilOptions): string[] {
  const args = ['--host', '127.0.0.1', '--port', String(opts.port ?? 0)];
  if (opts.statePath !== undefined) args.push('--state', opts.statePath);
  if (opts.stateInterval !== undefined) {
    if (opts.statePath === undefined) throw new Error('anvil: stateInterval needs statePath');
    args.push('--state-interval', String(opts.stateInterval));
  }
  if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
  if (opts.chainId !== undefined) args.push('--chain-id', String(opts.chainId));
  if (opts.mnemonic !== undefined) args.push('--mnemonic', opts.mnemonic);
  if (opts.accounts !== undefined) args.push('--accounts', String(opts.accounts));
  args.push(...(opts.extraArgs ?? []));
  return args;
}

async function rpcAnswers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: unknown };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilInstance> {
  const binary = opts.binaryPath ?? resolveAnvilBinary();
  const watchdog = opts.exitWithParent === true && process.platform !== 'win32';
  const child = watchdog
    ? spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'anvil-watchdog', binary, ...anvilArgs(opts)], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(binary, anvilArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });

  // anvil logs every request; keep draining its output (a full pipe would block it) but only
  // remember the tail, for error messages.
  let tail = '';
  let port: number | undefined;
  const onOutput = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    if (port === undefined) {
      const m = /Listening on [^\s:]+:(\d+)/.exec(tail);
      if (m?.[1]) port = Number(m[1]);
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);

  const killOnParentExit = (): void => {
    if (!exited(child)) child.kill('SIGTERM');
  };
  process.on('exit', killOnParentExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // A child that never spawned (pid undefined) emits no 'exit' to wait for.
      if (child.pid !== undefined && !exited(child)) {
        child.kill('SIGTERM');
        const done = waitForExit(child);
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<'hung'>((resolve) => {
          timer = setTimeout(() => resolve('hung'), STOP_GRACE_MS);
        });
        if ((await Promise.race([done, hung])) === 'hung') {
          child.kill('SIGKILL');
          await done;
        }
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnParentExit);
    })();
    return stopping;
  };

  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const deadline = Date.now() + (opts.startupTimeoutMs ?? 30_000);
  let readyPort: number;
  try {
    for (;;) {
      if (spawnError) throw spawnError;
      if (exited(child)) throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
      if (port !== undefined && (await rpcAnswers(`http://127.0.0.1:${port}`))) {
        readyPort = port;
        break;
      }
      if (Date.now() > deadline) throw new Error('did not answer JSON-RPC in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (err) {
    await stop();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`anvil failed to start: ${reason}\n${tail}`, { cause: err });
  }

  return { rpcUrl: `http://127.0.0.1:${readyPort}`, port: readyPort, process: child, stop };
}
