// `npm run bench` driver. For each mode (embedded always; PostgreSQL too when DATABASE_URL is set,
// on a fresh database created for the run and dropped after) it starts the service as a child
// process in a fresh DATA_DIR, seeds a user with 20 vehicles through the API, then measures the
// bare-Fastify baseline (bench/baseline.ts, its own process) and every scenario of
// bench/scenarios.ts with the same wrk settings, and prints requests/s, p50, p99 and the ratio
// to the baseline. The baseline is measured before and after the scenarios; the ratio uses their
// mean, and a large drift between them means the machine was busy (rerun). Then the
// documents-transfer scenario (bench/documents.ts): a 50 MiB upload and download against a plain
// stream copy of the same file (BENCH_DURATION/BENCH_WARMUP of rounds), and the service's RSS
// growth during 4 uploads at once; it prints a second table.
//
// The chain benches print a third table (value, target, met), see bench/chain-benches.ts:
//   claim-pair-flow  in each mode, against the same service: BENCH_FLOW_ITERATIONS (default 10)
//                    claim → pair flows of a user (real signatures, relayer, anvil, indexer),
//                    each timed from the first payload GET until the API shows the pairing;
//                    median and p90, target median < 1.5 s (bench/flow.ts)
//   share-flow       in each mode, the same way: BENCH_SHARE_ITERATIONS (default 20) grants of an
//                    owner's minted vehicles to one grantee, each timed from the share payload GET
//                    until the grantee's /shared lists the vehicle; target median < 1.5 s (bench/share-flow.ts)
//   relayer          in each mode (PGlite, then PostgreSQL): confirmed tx/s with a backlog on the
//                    embedded chain, target ≥ 50 for BENCH_RELAYER_SECONDS (default 30; bench/relayer.ts)
//   indexer          postgres mode only (skipped with a note without DATABASE_URL): events/s
//                    applied from an 8,000-event backlog, target ≥ 2,000 (bench/indexer.ts)
// The relayer and indexer run as child processes with their own anvil and database, after the
// mode's service has stopped; their own knobs (BENCH_RELAYER_*, BENCH_INDEXER_*) pass through.
//
// Environment:
//   BENCH_DURATION     measured seconds per run (default 10; "10s" and "1m" work too)
//   BENCH_WARMUP       warm-up seconds before each measured run, discarded (default 3; 0 = none)
//   BENCH_CONNECTIONS  wrk connections (default 50)
//   BENCH_THREADS      wrk thread counts, comma-separated (default "1,2"): every scenario and the
//                      baseline run once per count. On a 2-core machine wrk's second thread takes
//                      CPU from the server and pulls every ratio toward 1; -t1 shows the real gap.
//   BENCH_ONLY         comma-separated scenario names (e.g. "me,health", "documents-list,documents-transfer", "claim-pair-flow,relayer,indexer"); opt-in scenarios run only when named
//   BENCH_MODES        comma-separated subset of "embedded,postgres"
//   BENCH_NODE_FLAGS   extra Node flags for both the service and the baseline (same process settings)
//   BENCH_PROFILE=1    run the service with --cpu-prof; print, per scenario, where its CPU went while measured
//   BENCH_JSON=<file>  also write the results as JSON
//   BENCH_STRICT=1     exit 2 when a target is missed (default: report only)
//   BENCH_VERBOSE=1    print wrk's own output for every measured run
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { fleet, scenarios, VEHICLE_COUNT, type BenchContext, type Fixture, type Mode, type Scenario, type Target } from './scenarios.ts';
import { runWrk, stopWrk, type WrkRequest, type WrkResult, type WrkSettings } from './wrk.ts';
import { summarizeProfile, type ProfileWindow } from './profile.ts';
import { CHAIN_BENCHES, chainTable, runBenchScript, type ChainResult } from './chain-benches.ts';
import { flowVerdict, runClaimPairFlow } from './flow.ts';
import { runShareFlow, shareFlowVerdict } from './share-flow.ts';
import { DOCUMENTS_TRANSFER, makeTransferFile, runDocumentTransfer, transferTable, TRANSFER_MAX_BYTES, type TransferRow } from './documents.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const verbose = env.BENCH_VERBOSE === '1';

function seconds(name: string, dflt: number): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const m = /^(\d+(?:\.\d+)?)\s*(s|m)?$/.exec(raw);
  if (!m) throw new Error(`${name} must be a number of seconds like 10, 10s or 1m; got "${raw}"`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function positiveInt(name: string, dflt: number): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  if (!/^[1-9]\d*$/.test(raw)) throw new Error(`${name} must be a positive integer; got "${raw}"`);
  return Number(raw);
}

function positiveInts(name: string, dflt: number[]): number[] {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const list = raw.split(',').map((v) => v.trim());
  if (!list.every((v) => /^[1-9]\d*$/.test(v))) throw new Error(`${name} must be positive integers separated by commas; got "${raw}"`);
  return [...new Set(list.map(Number))];
}

const threadCounts = positiveInts('BENCH_THREADS', [1, 2]);
/** wrk's settings; `threads` is set per run from threadCounts. */
const settings: WrkSettings = {
  threads: threadCounts[0]!,
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  durationSeconds: Math.max(1, Math.round(seconds('BENCH_DURATION', 10))),
  timeoutSeconds: 10,
};
const warmupSeconds = Math.round(seconds('BENCH_WARMUP', 3));
const nodeFlags = ['--import', 'tsx', ...(env.BENCH_NODE_FLAGS?.trim() ? env.BENCH_NODE_FLAGS.trim().split(/\s+/) : [])];
const profile = env.BENCH_PROFILE === '1';

const only = env.BENCH_ONLY?.trim() ? env.BENCH_ONLY.split(',').map((s) => s.trim()).filter(Boolean) : null;
const knownNames: string[] = [...scenarios.map((s) => s.name), DOCUMENTS_TRANSFER, ...CHAIN_BENCHES];
if (only) {
  const unknown = only.filter((n) => !knownNames.includes(n));
  if (unknown.length) throw new Error(`BENCH_ONLY names unknown scenarios: ${unknown.join(', ')}; known: ${knownNames.join(', ')}`);
}
const selected = scenarios.filter((s) => (only ? only.includes(s.name) : !s.optIn));
const transferSelected = !only || only.includes(DOCUMENTS_TRANSFER);
const chainSelected = CHAIN_BENCHES.filter((n) => !only || only.includes(n));
const flowSelected = chainSelected.includes('claim-pair-flow');
const flowIterations = positiveInt('BENCH_FLOW_ITERATIONS', 10);
const shareFlowSelected = chainSelected.includes('share-flow');
const shareIterations = positiveInt('BENCH_SHARE_ITERATIONS', 20);

const wantedModes = env.BENCH_MODES?.trim() ? env.BENCH_MODES.split(',').map((s) => s.trim()) : null;
const modes: Mode[] = (['embedded', 'postgres'] as const).filter(
  (m) => (!wantedModes || wantedModes.includes(m)) && (m === 'embedded' || Boolean(env.DATABASE_URL)),
);
if (wantedModes?.includes('postgres') && !env.DATABASE_URL) throw new Error('BENCH_MODES includes postgres but DATABASE_URL is not set');

// ---------------------------------------------------------------------------------------------
// Child processes and cleanup

const cleanups: (() => Promise<void> | void)[] = [stopWrk];
async function runCleanups() {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (e) {
      process.stderr.write(`cleanup failed: ${(e as Error).message}\n`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping child processes and cleaning up\n`);
    void runCleanups().finally(() => process.exit(130));
  });
}

interface Started {
  proc: ChildProcess;
  url: string;
  /** Last lines the child wrote (stdout and stderr). */
  tail: string[];
  stop(): Promise<void>;
}

/** Starts `node <flags> <args>` and resolves once a stderr line matches `ready` (its group 1 is the URL). */
function startChild(label: string, args: string[], childEnv: NodeJS.ProcessEnv, ready: RegExp, timeoutMs = 120_000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let exited = false;
    const exitedP = new Promise<void>((r) => proc.once('exit', () => ((exited = true), r())));
    const stop = async () => {
      if (exited) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exitedP;
      clearTimeout(timer);
    };
    cleanups.push(stop);
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${label} did not start within ${timeoutMs / 1000} s:\n${tail.join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const m = ready.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ proc, url: m[1], tail, stop });
      }
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${signal ?? code}) before it was ready:\n${tail.join('\n')}`));
    });
  });
}

function execNode(args: string[], childEnv: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`node ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a fresh database per run

async function createBenchDatabase(serverUrl: string): Promise<{ url: string; serverVersion: string }> {
  const name = `devices_api_bench_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${process.pid}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  let serverVersion: string;
  try {
    serverVersion = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  cleanups.push(async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), serverVersion };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Row {
  mode: Mode;
  name: string;
  /** wrk -t: its threads share the machine's cores with the server. */
  threads: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time per request of the server process (all its threads), and of its PostgreSQL backends. */
  serverCpuUs: number | null;
  dbCpuUs: number | null;
  /** Requests without an answer within wrk's timeout: a latency finding, left out of wrk's percentiles. */
  timeouts: number;
  ratio: number | null;
  target?: Target;
  met?: boolean;
  problems: string[];
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

// CPU accounting from /proc (Linux): on a small shared machine wall-clock numbers swing with
// whatever else runs, while CPU time per request says what a request costs.
const CLK_TCK = 100; // USER_HZ; Linux reports /proc/<pid>/stat times in 1/100 s on every mainstream arch

/** CPU time (user + system, all threads) of a process in microseconds, or null without /proc. */
function procCpuUs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Per-pid CPU of the local PostgreSQL backends serving `dbName` (their title names the database). */
function pgBackendsCpuUs(dbName: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.startsWith('postgres:') || !cmd.includes(` ${dbName} `)) continue;
      const us = procCpuUs(Number(d));
      if (us !== null) out.set(Number(d), us);
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/**
 * Waits (at most `maxMs`) until the service spends under 5 % of a core for a whole second: the
 * scenarios' set-up leaves the relayer, the indexer and the garbage collector busy for a while,
 * and the first scenario measured in that time came out about ten points low.
 */
async function untilQuiet(pid: number, maxMs = 30_000): Promise<void> {
  const end = Date.now() + maxMs;
  let before = procCpuUs(pid);
  while (before !== null && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = procCpuUs(pid);
    if (now === null || now - before < 50_000) return;
    before = now;
  }
}

interface CpuProbe {
  serverPid: number;
  /** Database name whose local backends to account, when PostgreSQL runs on this machine. */
  dbName?: string;
}

interface Measured extends WrkResult {
  threads: number;
  window: ProfileWindow;
  serverCpuUs: number | null;
  dbCpuUs: number | null;
}

async function measure(label: string, req: WrkRequest, scratch: string, probe: CpuProbe, threads: number, connections = settings.connections): Promise<Measured> {
  const settingsT = { ...settings, connections, threads: Math.min(threads, connections) };
  process.stderr.write(`  ${label} (wrk -t${threads}): ${warmupSeconds ? `warm-up ${warmupSeconds} s, ` : ''}measuring ${settings.durationSeconds} s…`);
  if (warmupSeconds > 0) await runWrk(req, { ...settingsT, durationSeconds: warmupSeconds }, scratch);
  const cpu0 = procCpuUs(probe.serverPid);
  const db0 = probe.dbName ? pgBackendsCpuUs(probe.dbName) : null;
  const fromUs = nowUs();
  const r = await runWrk(req, settingsT, scratch);
  const window = { fromUs, toUs: nowUs() };
  const cpu1 = procCpuUs(probe.serverPid);
  const db1 = probe.dbName ? pgBackendsCpuUs(probe.dbName) : null;
  const perReq = (us: number) => (r.requests > 0 ? us / r.requests : null);
  const serverCpuUs = cpu0 !== null && cpu1 !== null ? perReq(cpu1 - cpu0) : null;
  let dbCpuUs: number | null = null;
  if (db0 && db1 && db1.size > 0) {
    let sum = 0;
    for (const [pid, us] of db1) sum += us - (db0.get(pid) ?? 0);
    dbCpuUs = perReq(sum);
  }
  process.stderr.write(` ${fmtInt(r.rps)} req/s\n`);
  if (verbose) process.stderr.write(r.text.replace(/^/gm, '    ') + '\n');
  return { ...r, threads, window, serverCpuUs, dbCpuUs };
}

function wrkProblems(r: WrkResult, expectStatus: number): string[] {
  const p: string[] = [];
  const { connect, read, write, status } = r.errors;
  if (connect + read + write > 0) p.push(`socket errors: connect ${connect}, read ${read}, write ${write}`);
  if (expectStatus < 400 && status > 0) p.push(`${status} responses with status >= 400`);
  if (expectStatus >= 400 && status < r.requests) p.push(`${r.requests - status} responses below 400 (expected ${expectStatus})`);
  if (r.requests === 0) p.push('no requests completed');
  return p;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (us: number) => (us / 1000).toFixed(2);

function targetText(t: Target | undefined): string {
  if (!t) return '—';
  const parts = [];
  if (t.minRatio !== undefined) parts.push(`≥ ${Math.round(t.minRatio * 100)}%`);
  if (t.maxP99Ms !== undefined) parts.push(`p99 < ${t.maxP99Ms} ms`);
  return parts.join(', ');
}

function table(rows: Row[]): string {
  const head = ['mode', 'scenario', 'wrk', 'req/s', 'p50 ms', 'p99 ms', 'vs baseline', 'server CPU µs/req', 'db CPU µs/req', 'target', 'met'];
  const body = rows.map((r) => [
    r.mode,
    r.name,
    `-t${r.threads}`,
    fmtInt(r.rps),
    fmtMs(r.p50Ms * 1000),
    fmtMs(r.p99Ms * 1000),
    r.ratio === null ? '—' : `${(r.ratio * 100).toFixed(1)}%`,
    r.serverCpuUs === null ? '—' : fmtInt(r.serverCpuUs),
    r.dbCpuUs === null ? '—' : fmtInt(r.dbCpuUs),
    targetText(r.target),
    r.problems.length ? 'ERRORS' : r.met === undefined ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 3 && i <= 8 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i >= 3 && i <= 8 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------

const ADDRESS = '0x00000000000000000000000000000000000b3c4a';

async function runMode(
  mode: Mode,
  baseline: Started,
  scratch: string,
  transferFile: string | null,
): Promise<{ rows: Row[]; transfers: TransferRow[]; chain: ChainResult[]; notes: string[] }> {
  const notes: string[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `devices-api-bench-${mode}-`));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const serviceEnv: NodeJS.ProcessEnv = {
    ...env,
    DEVICES_API_MODE: 'embedded', // dev tokens from the CLI; PostgreSQL comes from DATABASE_URL alone
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    RATE_LIMIT_MAX: '1000000000',
    DOCUMENT_MAX_BYTES: String(TRANSFER_MAX_BYTES), // documents-transfer uploads 50 MiB; the default limit is 10 MiB
  };
  delete serviceEnv.DATABASE_URL;
  let dbName: string | undefined;
  if (mode === 'postgres') {
    const db = await createBenchDatabase(env.DATABASE_URL!);
    serviceEnv.DATABASE_URL = db.url;
    dbName = new URL(db.url).pathname.slice(1);
    notes.push(`PostgreSQL ${db.serverVersion} on ${new URL(env.DATABASE_URL!).host}, fresh database ${new URL(db.url).pathname.slice(1)} (dropped after)`);
  }

  const profileDir = profile ? fs.mkdtempSync(path.join(os.tmpdir(), `devices-api-bench-prof-${mode}-`)) : null;
  const serverFlags = [...nodeFlags, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])];
  process.stderr.write(`\n[${mode}] starting the service (DATA_DIR ${dataDir})…\n`);
  const service = await startChild(`service (${mode})`, [...serverFlags, 'src/main.ts', 'serve'], serviceEnv, /devices-api listening on (http:\/\/\S+)/);

  const tokens = new Map<string, Promise<string>>();
  const token = (sub: string, address?: string) => {
    const key = `${sub} ${address ?? ''}`;
    if (!tokens.has(key)) {
      const args = [...nodeFlags, 'src/main.ts', 'token', '--sub', sub, '--ttl', '6h', ...(address ? ['--address', address] : [])];
      tokens.set(key, execNode(args, serviceEnv).then((s) => s.trim()));
    }
    return tokens.get(key)!;
  };
  const request: BenchContext['request'] = async (method, p, init = {}) => {
    const res = await fetch(service.url + p, {
      method,
      headers: {
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, body };
  };

  // The fixture: one user (with an address, as real tokens have) owning VEHICLE_COUNT vehicles.
  const userId = 'bench-user';
  const fixture: Fixture = { token: await token(userId, ADDRESS), userId, address: ADDRESS, vehicleIds: [] };
  for (let i = 0; i < VEHICLE_COUNT; i++) {
    const r = await request('POST', '/v1/user/devices', { token: fixture.token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
    if (r.status !== 201) throw new Error(`seeding vehicle ${i + 1} failed: ${r.status} ${JSON.stringify(r.body)}`);
    fixture.vehicleIds.push(r.body.userDevice.id);
  }
  process.stderr.write(`[${mode}] seeded ${userId} with ${VEHICLE_COUNT} vehicles at ${service.url}\n`);
  const cli = (args: string[]) => execNode([...nodeFlags, 'src/main.ts', ...args], serviceEnv);
  const ctx: BenchContext = { mode, baseUrl: service.url, token, cli, request, fixture, state: {} };

  const baselineReq: WrkRequest = { method: 'GET', url: `${baseline.url}/`, headers: {} };
  const baselineProbe: CpuProbe = { serverPid: baseline.proc.pid! };
  const serviceProbe: CpuProbe = { serverPid: service.proc.pid!, dbName };
  // Every scenario is set up and checked once, then measured once per wrk thread count, each count
  // with its own baseline before and after (a ratio compares runs with the same wrk).
  const prepared: { s: Scenario; req: WrkRequest; expectStatus: number }[] = [];
  for (const s of selected) {
    await s.setup?.(ctx);
    const p = typeof s.path === 'function' ? s.path(ctx) : s.path;
    const method = s.method ?? 'GET';
    const headers = s.headers?.(ctx) ?? {};
    const body = s.body?.(ctx);
    const expectStatus = s.expectStatus ?? 200;
    // One plain request first: the scenario must answer what it claims before it is timed.
    const auth = headers.authorization?.replace(/^Bearer /, '');
    const probe = await request(method, p, { token: auth, body });
    const problem = probe.status !== expectStatus ? `expected status ${expectStatus}, got ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}` : (s.check?.(probe.body, ctx) ?? null);
    if (problem) throw new Error(`[${mode}] scenario ${s.name}: ${problem}`);
    const req: WrkRequest = {
      method,
      url: service.url + p,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(s.distinctCursor ? { distinctCursor: true } : {}),
    };
    prepared.push({ s, req, expectStatus });
  }
  const rows: Row[] = [];
  const measured: { s: Scenario; r: Measured }[] = [];
  await untilQuiet(service.proc.pid!);
  for (const threads of threadCounts) {
    const before = await measure('baseline (before)', baselineReq, scratch, baselineProbe, threads);
    const runs: { s: Scenario; r: Measured; problems: string[] }[] = [];
    for (const { s, req, expectStatus } of prepared) {
      const r = await measure(s.name, req, scratch, serviceProbe, threads, s.connections);
      runs.push({ s, r, problems: wrkProblems(r, expectStatus) });
      measured.push({ s, r });
    }
    const after = prepared.length ? await measure('baseline (after)', baselineReq, scratch, baselineProbe, threads) : before;
    const baseRps = (before.rps + after.rps) / 2;
    const drift = Math.abs(before.rps - after.rps) / baseRps;
    if (drift > 0.15) notes.push(`wrk -t${threads}: baseline drifted ${(drift * 100).toFixed(0)}% between before and after: the machine was busy, rerun for stable ratios`);
    rows.push({
      mode,
      name: 'baseline',
      threads,
      rps: baseRps,
      p50Ms: (before.latencyUs.p50 + after.latencyUs.p50) / 2000,
      p99Ms: (before.latencyUs.p99 + after.latencyUs.p99) / 2000,
      ratio: 1,
      serverCpuUs: before.serverCpuUs !== null && after.serverCpuUs !== null ? (before.serverCpuUs + after.serverCpuUs) / 2 : null,
      dbCpuUs: null,
      timeouts: before.errors.timeout + after.errors.timeout,
      problems: [...wrkProblems(before, 200), ...wrkProblems(after, 200)],
    });
    notes.push(`wrk -t${threads}: baseline before ${fmtInt(before.rps)} req/s, after ${fmtInt(after.rps)} req/s`);
    for (const { s, r, problems } of runs) {
      const target = s.targets?.[mode];
      const ratio = r.rps / baseRps;
      const p99Ms = r.latencyUs.p99 / 1000;
      const timeouts = r.errors.timeout;
      const met = target
        ? (target.minRatio === undefined || ratio >= target.minRatio) && (target.maxP99Ms === undefined || (p99Ms < target.maxP99Ms && timeouts === 0))
        : undefined;
      rows.push({ mode, name: s.name, threads, rps: r.rps, p50Ms: r.latencyUs.p50 / 1000, p99Ms, ratio, serverCpuUs: r.serverCpuUs, dbCpuUs: r.dbCpuUs, timeouts, target, met, problems });
    }
  }
  const transfer = transferFile
    ? await runDocumentTransfer({
        mode,
        baseUrl: service.url,
        token: await token('bench-documents'),
        serverPid: service.proc.pid!,
        file: transferFile,
        copyDir: dataDir,
        warmupSeconds,
        durationSeconds: settings.durationSeconds,
        serverCpuUs: () => procCpuUs(service.proc.pid!),
      })
    : null;
  if (transfer) notes.push(...transfer.notes);
  const chain: ChainResult[] = [];
  if (flowSelected) {
    process.stderr.write(`  claim-pair-flow: setting up ${flowIterations} vehicles and devices…\n`);
    try {
      const samples = await runClaimPairFlow({ ctx, iterations: flowIterations, scratchDir: dataDir, progress: (line) => process.stderr.write(`    ${line}\n`) });
      chain.push({ mode, name: 'claim-pair-flow', ...flowVerdict(samples) });
    } catch (e) {
      chain.push({ mode, name: 'claim-pair-flow', value: '—', target: '—', met: false, details: [], problem: (e as Error).message });
    }
  }
  if (shareFlowSelected) {
    process.stderr.write(`  share-flow: minting ${shareIterations} vehicles…\n`);
    try {
      const owned = await fleet(ctx, shareIterations, 'share-flow');
      const samples = await runShareFlow({ ctx, owner: { token: owned.token, account: owned.owner }, vehicleIds: owned.vehicleIds, progress: (line) => process.stderr.write(`    ${line}\n`) });
      chain.push({ mode, name: 'share-flow', ...shareFlowVerdict(samples) });
    } catch (e) {
      chain.push({ mode, name: 'share-flow', value: '—', target: '—', met: false, details: [], problem: (e as Error).message });
    }
  }

  await service.stop();
  const logged = service.tail.filter((l) => l.startsWith('{'));
  if (logged.length) notes.push(`the service logged ${logged.length} warning/error line(s) (last: ${logged.at(-1)!.slice(0, 300)})`);
  if (profileDir) {
    // One file per thread: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread.
    const thread = (f: string) => Number(/\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] ?? 0);
    const files = fs
      .readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort((a, b) => thread(a) - thread(b));
    if (!files.length) notes.push(`no CPU profile was written to ${profileDir}`);
    for (const f of files) {
      const file = path.join(profileDir, f);
      const who = thread(f) === 0 ? 'main thread' : `worker thread ${thread(f)}`;
      process.stdout.write(`\n[${mode}] service CPU profile (${who}): ${file}\n`);
      const windows = [...measured.map(({ s, r }) => ({ name: `${s.name} (wrk -t${r.threads})`, window: r.window })), ...(transfer?.windows ?? [])];
      for (const { name, window } of windows) {
        const head = `[${mode}] ${name}, ${who}, while measured (window ${window.fromUs} ${window.toUs})`;
        process.stdout.write(`\n${head}\n${summarizeProfile(file, ROOT, thread(f) === 0 ? 30 : 8, window)}\n`);
      }
    }
  }
  return { rows, transfers: transfer?.rows ?? [], chain, notes };
}

async function main() {
  if (!selected.length && !transferSelected && !chainSelected.length) throw new Error('no scenarios selected');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-bench-'));
  cleanups.push(() => fs.rmSync(scratch, { recursive: true, force: true }));

  const cpus = os.cpus();
  const wrkVersion = await new Promise<string>((resolve) => {
    execFile('wrk', ['-v'], (_e, stdout, stderr) => resolve(/wrk [^\s]+/.exec(stdout + stderr)?.[0] ?? 'wrk'));
  });
  const header = [
    `devices-api bench, ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `node ${process.version} ${nodeFlags.join(' ')}; ${wrkVersion} ${threadCounts.map((t) => `-t${t}`).join(' and ')} -c${settings.connections} -d${settings.durationSeconds}s (warm-up ${warmupSeconds} s), loopback`,
    `modes: ${modes.join(', ')}; scenarios: ${[...selected.map((s) => s.name), ...(transferSelected ? [DOCUMENTS_TRANSFER] : []), ...chainSelected].join(', ')}`,
  ];
  process.stdout.write(header.join('\n') + '\n');

  const baseline = await startChild('baseline', [...nodeFlags, 'bench/baseline.ts'], { ...env, PORT: '0' }, /baseline listening on (http:\/\/\S+)/);
  const transferFile = transferSelected ? makeTransferFile(scratch) : null;
  const rows: Row[] = [];
  const transfers: TransferRow[] = [];
  const chain: ChainResult[] = [];
  const notes: string[] = [];
  // The relayer and indexer benches need no service: with only them selected, none is started.
  const serviceNeeded = selected.length > 0 || transferSelected || flowSelected || shareFlowSelected;
  for (const mode of modes) {
    if (serviceNeeded) {
      const r = await runMode(mode, baseline, scratch, transferFile);
      rows.push(...r.rows);
      transfers.push(...r.transfers);
      chain.push(...r.chain);
      notes.push(...r.notes.map((n) => `${mode}: ${n}`));
      process.stdout.write(`\n${table(r.rows)}\n`);
      if (r.transfers.length) process.stdout.write(`\n${transferTable(r.transfers)}\n`);
    }
    const scripts = (['relayer', 'indexer'] as const).filter((n) => chainSelected.includes(n) && (n !== 'indexer' || mode === 'postgres'));
    for (const name of scripts) {
      process.stderr.write(`\n[${mode}] ${name} bench (bench/${name}.ts)…\n`);
      const scriptEnv = { ...env };
      if (mode === 'embedded') delete scriptEnv.DATABASE_URL; // PGlite, as the embedded service runs
      chain.push(await runBenchScript({ name, mode, root: ROOT, nodeFlags, env: scriptEnv, scratch, track: (stop) => cleanups.push(stop) }));
    }
    const modeChain = chain.filter((c) => c.mode === mode);
    if (modeChain.length) process.stdout.write(`\n${chainTable(modeChain)}\n`);
  }
  if (chainSelected.includes('indexer') && !modes.includes('postgres')) {
    notes.push('indexer: skipped — its target is on PostgreSQL: set DATABASE_URL (and keep postgres in BENCH_MODES)');
  }
  await baseline.stop();

  process.stdout.write(`\n## Results\n\n${table(rows)}\n`);
  if (transfers.length) process.stdout.write(`\n${transferTable(transfers)}\n`);
  if (chain.length) process.stdout.write(`\n${chainTable(chain)}\n`);
  for (const r of rows) for (const p of r.problems) process.stdout.write(`! ${r.mode} ${r.name}: ${p}\n`);
  for (const r of rows) {
    if (r.timeouts) process.stdout.write(`! ${r.mode} ${r.name}: ${r.timeouts} requests got no answer within ${settings.timeoutSeconds} s (not in the percentiles)\n`);
  }
  for (const n of notes) process.stdout.write(`- ${n}\n`);
  if (env.BENCH_JSON) fs.writeFileSync(env.BENCH_JSON, JSON.stringify({ header, settings, warmupSeconds, rows, transfers, chain, notes }, null, 2) + '\n');

  if (rows.some((r) => r.problems.length) || chain.some((c) => c.problem)) return 1;
  if (env.BENCH_STRICT === '1' && [...rows, ...transfers, ...chain].some((r) => r.met === false)) return 2;
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
} finally {
  await runCleanups();
}
process.exit(code);
