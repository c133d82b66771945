// The embedded chain: anvil as a child process whose state lives in DATA_DIR, with our registry
// deployed and seeded on first start. Three files in DATA_DIR:
//   chain-state.json    anvil's state (--state): loaded at start and dumped by anvil on SIGTERM; while
//                       running, saved by us (anvil-state.ts) before the indexer applies a block and
//                       every few seconds, always as a whole file renamed into place
//   chain.json          what we deployed (addresses, deploy block, chain id, dev account indexes, seed ids)
//   chain-runtime.json  where the running anvil listens, so CLI commands (which must not open the
//                       locked database) can talk to the running server's chain; removed on stop
// A chain whose state went missing while the database remembers it is refused, never papered over:
// the database would describe tokens that no longer exist.
import fs from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { createPublicClient, createWalletClient, defineChain, getAddress, http, type Address, type PublicClient } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { startAnvil, DEFAULT_ANVIL_MNEMONIC, type AnvilInstance } from './anvil.ts';
import { deployRegistry, seedRegistry, type RegistryDeployment } from './deploy.ts';
import { createChainContext, type ChainContext } from './context.ts';
import { createStateSaver } from './anvil-state.ts';
import type { Db } from '../db/engine.ts';
import { chainCursor } from '../db/schema.ts';

export const CHAIN_FILE = 'chain.json';
export const CHAIN_STATE_FILE = 'chain-state.json';
export const CHAIN_RUNTIME_FILE = 'chain-runtime.json';

/** The indexer's cursor row for registry events (table chain_cursor). */
export const REGISTRY_CURSOR_ID = 'registry';

/**
 * Which of anvil's dev accounts (from its public, well-known mnemonic — never a real secret)
 * plays which part: the admin deploys and mints manufacturers/makes, the relayer sends relayed
 * calls, the manufacturer owner holds the seeded device makers and mints their devices (a
 * separate account so CLI mints never race the server's admin transactions for nonces).
 */
export const DEV_ACCOUNT_INDEXES = { admin: 0, relayer: 1, manufacturerOwner: 2 } as const;

export interface ChainFile {
  version: 1;
  chainId: number;
  deployment: RegistryDeployment;
  accounts: { mnemonic: string; admin: number; relayer: number; manufacturerOwner: number };
  seed: { manufacturers: Record<string, bigint>; integrations: Record<string, bigint> };
  createdAt: string;
}

export interface ChainRuntimeFile {
  rpcUrl: string;
  /** The server process that owns the chain. */
  pid: number;
  /** anvil's process, or the watchdog it runs under (which passes SIGTERM on). */
  anvilPid: number | undefined;
  startedAt: string;
}

/** The chain's state and what this data directory remembers disagree; the service must not start. */
export class LostChainStateError extends Error {
  constructor(dataDir: string, what: string) {
    super(
      `The embedded chain's state in ${dataDir} is lost or out of step: ${what}. ` +
        'The database describes tokens the chain no longer has, so the service will not start. ' +
        `To start over with an empty chain and database, stop the service and delete ${dataDir} (everything in it is rebuilt on the next start).`,
    );
    this.name = 'LostChainStateError';
  }
}

export function chainPaths(dataDir: string) {
  return {
    chain: path.join(dataDir, CHAIN_FILE),
    state: path.join(dataDir, CHAIN_STATE_FILE),
    runtime: path.join(dataDir, CHAIN_RUNTIME_FILE),
  };
}

function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n', { mode: 0o644 });
  fs.renameSync(tmp, file);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; it was written by devices-api and should not be edited`);
  }
}

function toIds(o: unknown): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const [k, v] of Object.entries((o ?? {}) as Record<string, string>)) out[k] = BigInt(v);
  return out;
}

/** DATA_DIR/chain.json, or undefined before the first start. */
export function readChainFile(dataDir: string): ChainFile | undefined {
  const file = chainPaths(dataDir).chain;
  const raw = readJson(file) as any;
  if (raw === undefined) return undefined;
  try {
    const d = raw.deployment;
    const addr = (k: string): Address => getAddress(d[k]);
    return {
      version: 1,
      chainId: Number(raw.chainId),
      deployment: {
        registry: addr('registry'),
        manufacturerId: addr('manufacturerId'),
        integrationId: addr('integrationId'),
        vehicleId: addr('vehicleId'),
        aftermarketDeviceId: addr('aftermarketDeviceId'),
        syntheticDeviceId: addr('syntheticDeviceId'),
        deployBlock: BigInt(d.deployBlock),
      },
      accounts: {
        mnemonic: String(raw.accounts.mnemonic),
        admin: Number(raw.accounts.admin),
        relayer: Number(raw.accounts.relayer),
        manufacturerOwner: Number(raw.accounts.manufacturerOwner),
      },
      seed: { manufacturers: toIds(raw.seed?.manufacturers), integrations: toIds(raw.seed?.integrations) },
      createdAt: String(raw.createdAt),
    };
  } catch (e) {
    throw new Error(`${file} is incomplete or damaged (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
}

/** DATA_DIR/chain-runtime.json, or undefined when no server has the chain running. */
export function readChainRuntime(dataDir: string): ChainRuntimeFile | undefined {
  const raw = readJson(chainPaths(dataDir).runtime) as ChainRuntimeFile | undefined;
  if (raw === undefined) return undefined;
  if (typeof raw.rpcUrl !== 'string' || typeof raw.pid !== 'number') throw new Error(`${chainPaths(dataDir).runtime} is damaged`);
  return raw;
}

export function devAccount(file: Pick<ChainFile, 'accounts'>, role: keyof typeof DEV_ACCOUNT_INDEXES): HDAccount {
  return mnemonicToAccount(file.accounts.mnemonic, { addressIndex: file.accounts[role] });
}

export interface EmbeddedChainOptions {
  dataDir: string;
  /** Wanted chain id; must match the recorded one on restart. Default: recorded, else 31337. */
  chainId?: number;
  confirmations: number;
  /** Seconds between blocks; absent = automine (a block per transaction). */
  blockTime?: number;
  /** Seconds between state dumps. */
  stateInterval: number;
  /**
   * A state file without chain.json is a first start stopped during its deploy: deploy again
   * (true), or refuse it as a lost chain.json (false, the default). The caller passes true only
   * when the database has indexed nothing, i.e. no one was ever shown anything from that chain.
   */
  redoUnfinishedDeploy?: boolean;
  logger?: { info(obj: object, msg: string): void; warn?(obj: object, msg: string): void };
}

export interface EmbeddedChain {
  context: ChainContext;
  anvil: AnvilInstance;
  file: ChainFile;
  /** True when this start deployed the registry (a fresh data directory). */
  deployed: boolean;
  /** Removes the runtime file, then SIGTERMs anvil so it dumps its state. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The embedded anvil is a child of this process, so a slow answer means a loaded machine, not a
 * lost node: viem's default of 10 s per request failed first starts (deploying the registry) at a
 * load average of 30.
 */
const LOCAL_RPC_TIMEOUT_MS = 60_000;

function clientFor(rpcUrl: string, chainId: number): PublicClient {
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  return createPublicClient({ chain, transport: http(rpcUrl, { timeout: LOCAL_RPC_TIMEOUT_MS }), pollingInterval: 50, cacheTime: 0 });
}

async function deployFresh(publicClient: PublicClient, rpcUrl: string, chainId: number): Promise<ChainFile> {
  const accounts = { mnemonic: DEFAULT_ANVIL_MNEMONIC, ...DEV_ACCOUNT_INDEXES };
  const chain = publicClient.chain!;
  const wallet = (role: keyof typeof DEV_ACCOUNT_INDEXES) =>
    createWalletClient({ account: devAccount({ accounts }, role), chain, transport: http(rpcUrl, { timeout: LOCAL_RPC_TIMEOUT_MS }) });
  const deployment = await deployRegistry({
    publicClient,
    walletClient: wallet('admin'),
    relayer: devAccount({ accounts }, 'relayer').address,
    devRoles: true,
  });
  const seed = await seedRegistry({
    publicClient,
    walletClient: wallet('admin'),
    registry: deployment.registry,
    manufacturerOwner: devAccount({ accounts }, 'manufacturerOwner').address,
  });
  return { version: 1, chainId, deployment, accounts, seed, createdAt: new Date().toISOString() };
}

/**
 * An anvil left running by an earlier server (its watchdog killed too, e.g. by SIGKILL to the
 * whole process group) may still dump into chain-state.json; a second anvil on the same file
 * would overwrite one state with the other.
 */
async function refuseStaleAnvil(dataDir: string): Promise<void> {
  let stale: ChainRuntimeFile | undefined;
  try {
    stale = readChainRuntime(dataDir);
  } catch {
    return; // damaged: rewritten by this start
  }
  if (!stale || stale.pid === process.pid) return;
  const answers = await fetch(stale.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(2000),
  }).then(
    (r) => r.ok,
    () => false,
  );
  if (answers) {
    throw new Error(
      `An anvil from an earlier run still serves the chain of ${dataDir} at ${stale.rpcUrl}; a second one on the same ` +
        `state file would overwrite its state. Stop it (its command line names ${chainPaths(dataDir).state}) and start again.`,
    );
  }
}

async function rpcBlockNumber(rpcUrl: string): Promise<string> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
  });
  return ((await res.json()) as { result: string }).result;
}

/**
 * What DATA_DIR holds of an earlier chain, checked for consistency: a lost state is refused, and an
 * unfinished first deploy is cleared (when allowed) so it is redone.
 */
function inspectDataDir(o: EmbeddedChainOptions): { recorded: ChainFile | undefined; stateExists: boolean; chainId: number } {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const paths = chainPaths(o.dataDir);
  // Half-written saves of a killed process (we hold the data-dir lock: no one else writes them).
  for (const f of fs.readdirSync(o.dataDir)) {
    if (f.startsWith(`${CHAIN_STATE_FILE}.`) && f.endsWith('.tmp')) fs.rmSync(path.join(o.dataDir, f), { force: true });
  }
  const recorded = readChainFile(o.dataDir);
  let stateExists = fs.existsSync(paths.state);
  if (recorded && !stateExists) {
    throw new LostChainStateError(o.dataDir, `${CHAIN_FILE} records a registry at ${recorded.deployment.registry} but ${CHAIN_STATE_FILE} is missing`);
  }
  if (!recorded && stateExists) {
    if (!o.redoUnfinishedDeploy) {
      throw new LostChainStateError(o.dataDir, `${CHAIN_STATE_FILE} exists but ${CHAIN_FILE} (which says where the registry is) is missing`);
    }
    // chain.json is written only once the deployment is complete and on disk, and nothing is
    // served before it: this chain was never shown to anyone, so it is redone from scratch.
    fs.rmSync(paths.state, { force: true });
    stateExists = false;
    o.logger?.info({ dataDir: o.dataDir }, 'embedded chain: an earlier first start stopped during its deploy; deploying again');
  }
  if (recorded && o.chainId !== undefined && o.chainId !== recorded.chainId) {
    throw new Error(`CHAIN_ID=${o.chainId} but the embedded chain in ${o.dataDir} was created with chain id ${recorded.chainId}; unset CHAIN_ID or use another DATA_DIR`);
  }
  return { recorded, stateExists, chainId: recorded?.chainId ?? o.chainId ?? 31337 };
}

export async function startEmbeddedChain(o: EmbeddedChainOptions): Promise<EmbeddedChain> {
  const { recorded, stateExists, chainId } = inspectDataDir(o);
  const paths = chainPaths(o.dataDir);
  await refuseStaleAnvil(o.dataDir);

  let anvil: AnvilInstance;
  try {
    anvil = await startAnvil({
      chainId,
      statePath: paths.state,
      mnemonic: DEFAULT_ANVIL_MNEMONIC,
      // A server killed with SIGKILL must not leave an anvil writing to this state file.
      exitWithParent: true,
      ...(o.blockTime !== undefined ? { blockTime: o.blockTime } : {}),
    });
  } catch (e) {
    const hint = stateExists ? ` If ${paths.state} is damaged, delete ${o.dataDir} to start over.` : '';
    throw new Error(`${e instanceof Error ? e.message : String(e)}${hint}`, { cause: e });
  }

  const saver = createStateSaver({
    rpcUrl: anvil.rpcUrl,
    statePath: paths.state,
    intervalMs: o.stateInterval * 1000,
    // A loaded state holds its head already; -1n: nothing is on disk yet.
    savedThrough: stateExists ? BigInt(await rpcBlockNumber(anvil.rpcUrl)) : -1n,
    logger: o.logger,
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await saver.stop();
      try {
        const current = readChainRuntime(o.dataDir);
        if (current?.pid === process.pid && current.rpcUrl === anvil.rpcUrl) fs.rmSync(paths.runtime, { force: true });
      } catch {
        // a damaged runtime file is replaced on the next start anyway
      }
      await anvil.stop();
    })();
    return stopped;
  };

  try {
    const publicClient = clientFor(anvil.rpcUrl, chainId);
    let file: ChainFile;
    if (recorded) {
      const code = await publicClient.getCode({ address: recorded.deployment.registry });
      if (!code || code === '0x') {
        throw new LostChainStateError(o.dataDir, `the chain loaded from ${CHAIN_STATE_FILE} has no registry at ${recorded.deployment.registry}`);
      }
      file = recorded;
      o.logger?.info({ registry: file.deployment.registry, rpcUrl: anvil.rpcUrl }, 'embedded chain restarted from its saved state');
    } else {
      file = await deployFresh(publicClient, anvil.rpcUrl, chainId);
      // chain.json never names a registry the state file lacks: a kill right after this first
      // start must not look like a lost chain.
      await saver.persistThrough(await publicClient.getBlockNumber({ cacheTime: 0 }));
      writeJsonAtomic(paths.chain, file);
      o.logger?.info({ registry: file.deployment.registry, rpcUrl: anvil.rpcUrl }, 'embedded chain: registry deployed and seeded');
    }
    const runtime: ChainRuntimeFile = { rpcUrl: anvil.rpcUrl, pid: process.pid, anvilPid: anvil.process.pid, startedAt: new Date().toISOString() };
    writeJsonAtomic(paths.runtime, runtime);
    const context: ChainContext = {
      ...createChainContext({
        rpcUrl: anvil.rpcUrl,
        chainId,
        deployment: file.deployment,
        relayerAccount: devAccount(file, 'relayer'),
        adminAccount: devAccount(file, 'admin'),
        confirmations: o.confirmations,
      }),
      persistThrough: (block) => saver.persistThrough(block),
    };
    return { context, anvil, file, deployed: !recorded, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** True once the indexer has stored a cursor: from then on the database describes this chain. */
export async function databaseHasIndexed(db: Db): Promise<boolean> {
  const rows = await db.select({ id: chainCursor.id }).from(chainCursor).where(eq(chainCursor.id, REGISTRY_CURSOR_ID)).limit(1);
  return rows.length > 0;
}

/**
 * The indexer's cursor names a block by number and hash; if the chain's block at that number is
 * missing or different, the chain restarted from an older (or no) state while the database kept
 * going — e.g. chain-state.json was deleted or replaced. Throws LostChainStateError then.
 */
export async function assertChainMatchesDatabase(context: Pick<ChainContext, 'publicClient'>, db: Db, dataDir: string): Promise<void> {
  const [cursor] = await db.select().from(chainCursor).where(eq(chainCursor.id, REGISTRY_CURSOR_ID)).limit(1);
  if (!cursor) return;
  const head = await context.publicClient.getBlockNumber({ cacheTime: 0 });
  if (head < cursor.blockNumber) {
    throw new LostChainStateError(dataDir, `the database has indexed up to block ${cursor.blockNumber} but the chain's latest block is ${head}`);
  }
  const block = await context.publicClient.getBlock({ blockNumber: cursor.blockNumber });
  if (block.hash.toLowerCase() !== cursor.blockHash.toLowerCase()) {
    throw new LostChainStateError(dataDir, `block ${cursor.blockNumber} has hash ${block.hash} on the chain but ${cursor.blockHash} in the database`);
  }
}
