// Crash test of the relayed path, as an operator's crash happens: the embedded server (`npm start`,
// a new DATA_DIR per run) is killed with SIGKILL at random moments while a client sends 30
// owner-signed vehicle mints (after a random number of them were accepted, plus 0–1.5 s), and
// restarted at once each time. Only the serve process is killed
// (what the OOM killer or `kill -9 <pid>` does); its anvil is then ended by its watchdog with
// SIGTERM and dumps its state, as in production. A kill of the whole tree at once is
// scripts/whole-tree-kill.sh.
//
// The client behaves like a real one: a request whose answer was lost (connection refused or
// reset, 503 while starting) is sent again; a 409 "already in progress (request …)" names the
// request the first attempt created. At the end every vehicle must be minted exactly once:
//   lost        a request answered 202 (or named by a 409) that never reached Confirmed, or a
//               vehicle without a token
//   duplicated  more vehicle NFTs for the owner than vehicles (balanceOf, Transfer events), a
//               transaction minting a vehicle that is not the one its request names (a second
//               transaction for one request), or two vehicles naming one request
//   restart     a restart not ready within 240 s
// Usage, from the project root after `npm run build`:
//   node --import tsx scripts/crash-relay.ts [runs=5] [kills per run=3]
// Prints one line per run and a summary; exits 1 when anything was lost or duplicated or a
// restart failed. CRASH_KEEP=1 keeps the data directories and logs.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createPublicClient, decodeEventLog, http, keccak256, parseAbiItem, toBytes, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { nodeNftAbi } from '../src/chain/abi/index.ts';
import { signTyped, type Payload } from '../test/helpers/chain-app.ts';

const RUNS = Number(process.argv[2] ?? 5);
const KILLS = Number(process.argv[3] ?? 3);
const REQUESTS = 30;
const READY_TIMEOUT_MS = 240_000;
const SETTLE_TIMEOUT_MS = 180_000;
const ROOT = path.resolve(import.meta.dirname, '..');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Server {
  child: ChildProcess;
  base: string;
  /** The serve process (node bin/devices-api.mjs serve), from chain-runtime.json. */
  servePid: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startServer(dataDir: string, log: number): Promise<Server & { readyMs: number }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  // Its own process group, so the clean-up can end whatever is left of it.
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000' },
    stdio: ['ignore', log, log],
    detached: true,
  });
  while (Date.now() - t0 < READY_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) {
      const runtime = JSON.parse(fs.readFileSync(path.join(dataDir, 'chain-runtime.json'), 'utf8')) as { pid: number };
      return { child, base, servePid: runtime.pid, readyMs: Date.now() - t0 };
    }
    await sleep(250);
  }
  throw new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

function endGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** What the client does for one vehicle: 'accepted' with the request id once the server has it. */
type Vehicle = { id: string; requestId?: string; attempts: number; answers: string[] };

async function call(base: string, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any } | 'unreachable'> {
  try {
    const r = await fetch(base + p, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  } catch {
    return 'unreachable';
  }
}

/** One attempt at the relayed request of `v`: GET the payload, sign it, POST it. */
async function attemptMint(base: string, token: string, owner: LocalAccount, v: Vehicle): Promise<void> {
  v.attempts++;
  const mintPath = `/v1/user/devices/${v.id}/commands/mint`;
  const payload = await call(base, token, 'GET', mintPath);
  if (payload === 'unreachable') return void v.answers.push('GET unreachable');
  if (payload.status === 409) return settleFrom409(v, payload.json?.message);
  if (payload.status !== 200) return void v.answers.push(`GET ${payload.status}`);
  const signature = await signTyped(owner, payload.json as Payload);
  const r = await call(base, token, 'POST', mintPath, { signature });
  if (r === 'unreachable') return void v.answers.push('POST unreachable');
  v.answers.push(`POST ${r.status}`);
  if (r.status === 202) v.requestId = r.json.requestId as string;
  else if (r.status === 409) settleFrom409(v, r.json?.message);
}

function settleFrom409(v: Vehicle, message: string | undefined): void {
  v.answers.push(`409 ${message}`);
  const m = /request ([0-9A-Za-z]{27})/.exec(message ?? '');
  if (m) v.requestId = m[1];
  // "already minted with token id": accepted earlier, its request id is checked through /me.
  else if (/already minted/.test(message ?? '')) v.requestId ??= 'minted';
}

interface RunResult {
  lost: string[];
  duplicated: string[];
  restarts: number;
  restartMs: number[];
  kills: { atMs: number; accepted: number; inFlight: number }[];
  /** Requests whose 202 the client never got (cut by a kill) and learned from a later 409. */
  answersLost: number;
}

async function run(index: number): Promise<RunResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-relay-'));
  const dataDir = path.join(dir, 'data');
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const result: RunResult = { lost: [], duplicated: [], restarts: 0, restartMs: [], kills: [], answersLost: 0 };
  let server: Server | undefined;
  let failed = true;
  try {
    server = await startServer(dataDir, log).catch((err: unknown) => {
      throw new Error(`first start failed (no kill yet): ${err instanceof Error ? err.message : String(err)}`);
    });
    const owner = privateKeyToAccount(keccak256(toBytes(`crash-relay ${process.pid} ${index} ${Date.now()}`)));
    const token = execFileSync('npm', ['run', '-s', 'cli', '--', 'token', '--sub', `crash-${index}`, '--address', owner.address, '--ttl', '2h'], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    }).trim();
    const vehicles: Vehicle[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const r = await call(server.base, token, 'POST', '/v1/user/devices', { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' });
      if (r === 'unreachable' || r.status !== 201) throw new Error(`registering vehicle ${i}: ${JSON.stringify(r)}`);
      vehicles.push({ id: r.json.userDevice.id as string, attempts: 0, answers: [] });
    }

    // The client: two at a time, each vehicle until the server has its request; a failed
    // attempt waits a moment (the server may be restarting) and goes again.
    const t0 = Date.now();
    let clientDone = false;
    const client = (async () => {
      const queue = [...vehicles];
      const worker = async () => {
        for (let v = queue.shift(); v; v = queue.shift()) {
          while (!v.requestId) {
            await attemptMint(server!.base, token, owner, v);
            if (!v.requestId) await sleep(300);
          }
        }
      };
      await Promise.all([worker(), worker()]);
      clientDone = true;
    })();

    // The crashes: spread over the 30 requests at random (after a random number of them were
    // accepted, then a random 0–1.5 s more), so they land while the client sends, while the
    // relayer signs, sends and tracks what it accepted, and after the last request; each is
    // followed by an immediate restart.
    const points = new Set<number>();
    while (points.size < Math.min(KILLS, REQUESTS - 1)) points.add(1 + Math.floor(Math.random() * (REQUESTS - 1)));
    for (const [k, point] of [...points].sort((a, b) => a - b).entries()) {
      while (!clientDone && vehicles.filter((v) => v.requestId).length < point) await sleep(50);
      await sleep(Math.floor(Math.random() * 1500));
      const accepted = vehicles.filter((v) => v.requestId).length;
      const me = await call(server.base, token, 'GET', '/v1/user/devices/me');
      const inFlight = me === 'unreachable' ? NaN : (me.json.userDevices as { nft: { status: string | null } | null }[]).filter((d) => d.nft?.status && d.nft.status !== 'Confirmed').length;
      result.kills.push({ atMs: Date.now() - t0, accepted, inFlight });
      process.kill(server.servePid, 'SIGKILL');
      while (alive(server.servePid)) await sleep(20);
      const restarted = await startServer(dataDir, log).catch((err: unknown) => {
        throw new Error(`restart ${k + 1} failed: ${err instanceof Error ? err.message : String(err)}`);
      });
      endGroup(server.child); // npm, whose child was killed, has exited by now; nothing else is left
      server = restarted;
      result.restarts++;
      result.restartMs.push(restarted.readyMs);
    }
    await client;
    if (!clientDone) throw new Error('client did not finish');
    result.answersLost = vehicles.filter((v) => v.answers.some((a) => a.startsWith('409'))).length;

    // Every request to Confirmed (or Failed: that is lost too).
    const settleBy = Date.now() + SETTLE_TIMEOUT_MS;
    const statusOf = new Map<string, { status: string; hash?: string }>();
    for (const v of vehicles) {
      if (v.requestId === 'minted') continue;
      for (;;) {
        const r = await call(server.base, token, 'GET', `/v1/transactions/${v.requestId}`);
        if (r !== 'unreachable' && r.status === 200 && (r.json.status === 'Confirmed' || r.json.status === 'Failed')) {
          statusOf.set(v.id, r.json);
          break;
        }
        if (Date.now() > settleBy) {
          statusOf.set(v.id, r === 'unreachable' ? { status: 'unreachable' } : r.json);
          break;
        }
        await sleep(250);
      }
    }
    // …and the API shows each vehicle minted (the indexer applied it).
    const mintedBy = Date.now() + 60_000;
    let mine: { id: string; nft: { tokenId: string | null; txHash: string | null; status: string | null } | null }[] = [];
    for (;;) {
      const r = await call(server.base, token, 'GET', '/v1/user/devices/me');
      if (r !== 'unreachable' && r.status === 200) mine = r.json.userDevices;
      if (mine.length === REQUESTS && mine.every((d) => d.nft?.tokenId)) break;
      if (Date.now() > mintedBy) break;
      await sleep(250);
    }
    for (const v of vehicles) {
      const s = statusOf.get(v.id);
      const d = mine.find((x) => x.id === v.id);
      if (v.requestId !== 'minted' && s?.status !== 'Confirmed') result.lost.push(`${v.id}: request ${v.requestId} ${JSON.stringify(s)} (${v.answers.join('; ')})`);
      if (!d?.nft?.tokenId) result.lost.push(`${v.id}: no token id in /me (${JSON.stringify(d?.nft)})`);
      else if (s?.hash && d.nft.txHash && s.hash !== d.nft.txHash) result.duplicated.push(`${v.id}: request hash ${s.hash}, vehicle minted by ${d.nft.txHash}`);
    }

    // On chain: the owner holds exactly one vehicle per request, and no mint call was mined twice.
    const chainFile = JSON.parse(fs.readFileSync(path.join(dataDir, 'chain.json'), 'utf8'));
    const { rpcUrl } = JSON.parse(fs.readFileSync(path.join(dataDir, 'chain-runtime.json'), 'utf8')) as { rpcUrl: string };
    const pc = createPublicClient({ transport: http(rpcUrl) });
    const vehicleNft = chainFile.deployment.vehicleId as Hex;
        const balance = await pc.readContract({ address: vehicleNft, abi: nodeNftAbi, functionName: 'balanceOf', args: [owner.address] });
    if (balance !== BigInt(REQUESTS)) (balance > BigInt(REQUESTS) ? result.duplicated : result.lost).push(`owner holds ${balance} vehicles on chain, expected ${REQUESTS}`);
    const transfers = await pc.getLogs({
      address: vehicleNft,
      event: parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)'),
      args: { to: owner.address },
      fromBlock: 0n,
    });
    const tokens = new Set(transfers.map((l) => decodeEventLog({ abi: [parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)')], ...l }).args.tokenId));
    if (tokens.size !== REQUESTS) (tokens.size > REQUESTS ? result.duplicated : result.lost).push(`${tokens.size} vehicle tokens minted to the owner, expected ${REQUESTS}`);
    // Each request's transaction is the one that minted its vehicle, and no other transaction did.
    // (Calldata cannot tell requests apart: the payload has no nonce, so the same owner, make and
    // model give the same signature.)
    const byTx = new Map<string, number>();
    for (const l of transfers) byTx.set(l.transactionHash, (byTx.get(l.transactionHash) ?? 0) + 1);
    for (const [hash, n] of byTx) if (n > 1) result.duplicated.push(`transaction ${hash} minted ${n} vehicles`);
    const requestHashes = new Set(vehicles.flatMap((v) => {
      const hash = statusOf.get(v.id)?.hash ?? mine.find((d) => d.id === v.id)?.nft?.txHash;
      return hash ? [hash] : [];
    }));
    for (const hash of byTx.keys()) if (!requestHashes.has(hash)) result.duplicated.push(`transaction ${hash} minted a vehicle no request names`);
    for (const hash of requestHashes) if (!byTx.has(hash)) result.lost.push(`request transaction ${hash} minted nothing`);
    const requestIds = vehicles.flatMap((v) => (v.requestId === 'minted' ? [] : [v.requestId]));
    if (new Set(requestIds).size !== requestIds.length) result.duplicated.push('two vehicles name one request');

    // A clean stop at the end.
    process.kill(server.servePid, 'SIGTERM');
    while (alive(server.servePid)) await sleep(50);
    failed = result.lost.length + result.duplicated.length > 0;
    return result;
  } finally {
    if (server) endGroup(server.child);
    fs.closeSync(log);
    if (process.env.CRASH_KEEP === '1' || failed) console.log(`  (data and log: ${dir})`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

const totals = { lost: 0, duplicated: 0, restarts: 0, failedRuns: 0 };
const restartMs: number[] = [];
for (let i = 1; i <= RUNS; i++) {
  try {
    const r = await run(i);
    totals.lost += r.lost.length;
    totals.duplicated += r.duplicated.length;
    totals.restarts += r.restarts;
    restartMs.push(...r.restartMs);
    const kills = r.kills.map((k) => `${(k.atMs / 1000).toFixed(1)} s (${k.accepted} accepted, ${k.inFlight} of them unconfirmed)`).join(', ');
    console.log(`run ${i}/${RUNS}: killed at ${kills}; ${r.restarts} restarts ready in ${r.restartMs.map((m) => (m / 1000).toFixed(1)).join(', ')} s; ${r.answersLost} answers cut off; lost ${r.lost.length}, duplicated ${r.duplicated.length}`);
    for (const l of [...r.lost, ...r.duplicated]) console.log(`  ${l}`);
  } catch (err) {
    totals.failedRuns++;
    console.log(`run ${i}/${RUNS}: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  }
}
console.log(
  `${RUNS} runs × ${REQUESTS} relayed mints, ${KILLS} kills each: lost ${totals.lost}, duplicated ${totals.duplicated}, ` +
    `restarts ${totals.restarts} ok, failed runs ${totals.failedRuns}; restart to ready ${restartMs.length ? `${(Math.min(...restartMs) / 1000).toFixed(1)}–${(Math.max(...restartMs) / 1000).toFixed(1)} s` : '—'}`,
);
process.exit(totals.lost + totals.duplicated + totals.failedRuns > 0 ? 1 : 0);
