// What the relayer and indexer benches share: a fresh database (PGlite in a temp directory, or a
// database of its own on the DATABASE_URL server, dropped after), anvil with the registry deployed
// and seeded, an owner-signed vehicle mint, CPU accounting, and the result file through which
// `npm run bench` (bench/run.ts) reads a bench's verdict.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPublicClient, createWalletClient, defineChain, http, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { mnemonicToAccount, type HDAccount, type LocalAccount } from 'viem/accounts';
import { DEFAULT_ANVIL_MNEMONIC, startAnvil, type AnvilInstance } from '../src/chain/anvil.ts';
import { deployRegistry, seedRegistry, type RegistryDeployment, type SeedResult } from '../src/chain/deploy.ts';
import { openPglite, openPostgres, type Database } from '../src/db/engine.ts';
import { mintVehiclePayload } from '../src/domain/eip712.ts';

export interface BenchDatabase {
  database: Database;
  label: 'postgres' | 'pglite';
  drop: () => Promise<void>;
}

/** PostgreSQL when DATABASE_URL names a server (a fresh database, dropped by drop()), else PGlite in a temp directory. */
export async function openBenchDatabase(prefix: string): Promise<BenchDatabase> {
  const server = process.env.DATABASE_URL;
  if (server) {
    const name = `${prefix}_${crypto.randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${name}`;
    const database = openPostgres({ url: u.toString() });
    await database.migrate();
    return {
      database,
      label: 'postgres',
      drop: async () => {
        await database.close();
        const c = new pg.Client({ connectionString: server });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-pglite-`));
  const database = await openPglite({ dataDir: dir });
  await database.migrate();
  return {
    database,
    label: 'pglite',
    drop: async () => {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchChain {
  anvil: AnvilInstance;
  chain: Chain;
  chainId: number;
  publicClient: PublicClient;
  deployment: RegistryDeployment;
  seed: SeedResult;
  /** anvil's dev accounts by role: #0 deploys, #1 relays, #2 owns the seeded manufacturers, #3 owns vehicles. */
  accounts: { deployer: HDAccount; relayer: HDAccount; manufacturer: HDAccount; owner: HDAccount };
  wallet: (account: LocalAccount) => WalletClient<Transport, Chain, LocalAccount>;
}

/** anvil (automine, as `npm start` runs it) with the registry deployed and the default manufacturers and integrations seeded. */
export async function startBenchChain(): Promise<BenchChain> {
  const chainId = 31337;
  // A bench killed by Ctrl-C or `npm run bench`'s clean-up must not leave anvil behind.
  const anvil = await startAnvil({ chainId, mnemonic: DEFAULT_ANVIL_MNEMONIC, exitWithParent: true });
  try {
    const transport = http(anvil.rpcUrl);
    const chain = defineChain({ id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [anvil.rpcUrl] } } });
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 20, cacheTime: 0 }) as PublicClient;
    const dev = (i: number) => mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: i });
    const accounts = { deployer: dev(0), relayer: dev(1), manufacturer: dev(2), owner: dev(3) };
    const wallet = (account: LocalAccount) => createWalletClient({ account, transport, chain });
    const deployment = await deployRegistry({ publicClient, walletClient: wallet(accounts.deployer), relayer: accounts.relayer.address });
    const seed = await seedRegistry({ publicClient, walletClient: wallet(accounts.deployer), registry: deployment.registry, manufacturerOwner: accounts.manufacturer.address });
    return { anvil, chain, chainId, publicClient, deployment, seed, accounts, wallet };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}

/** Arguments of `mintVehicleWithDeviceDefinitionSign` for a Ford Bronco 2021 owned (and signed for) by `owner`. */
export async function signedVehicleMint(c: Pick<BenchChain, 'chainId' | 'deployment'>, owner: LocalAccount, manufacturerNode: bigint) {
  const payload = mintVehiclePayload(
    { chainId: c.chainId, verifyingContract: c.deployment.registry },
    { manufacturerNode, owner: owner.address, deviceDefinitionId: 'ford_bronco_2021', make: 'Ford', model: 'Bronco', year: 2021 },
  );
  const signature = await signPayload(owner, payload);
  const attrInfo = payload.message.attributes.map((attribute, i) => ({ attribute, info: payload.message.infos[i]! }));
  return [manufacturerNode, owner.address, payload.message.deviceDefinitionId, attrInfo, signature] as const;
}

/** What a wallet does with a GET …/commands/* answer (an eth_signTypedData_v4 object): signs it as it is. */
export function signPayload(account: LocalAccount, payload: unknown): Promise<Hex> {
  return account.signTypedData(payload as Parameters<LocalAccount['signTypedData']>[0]);
}

/** user+system CPU seconds of a process and its descendants (anvil runs under a watchdog shell; Linux /proc); NaN elsewhere. */
export function cpuSecondsOf(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    return own + children.reduce((sum, child) => sum + cpuSecondsOf(child), 0);
  } catch {
    return NaN;
  }
}

/** A bench's verdict, as `npm run bench` prints it beside the others. */
export interface BenchVerdict {
  /** The measured value, e.g. "62.3 confirmed tx/s". */
  value: string;
  /** e.g. "≥ 50 tx/s". */
  target: string;
  met: boolean;
  /** Further lines worth printing (latency, CPU per item, consistency checks). */
  details: string[];
}

/** Writes the verdict to BENCH_RESULT_FILE when the driver asked for it (standalone runs print only). */
export function reportVerdict(v: BenchVerdict): void {
  const file = process.env.BENCH_RESULT_FILE;
  if (file) fs.writeFileSync(file, JSON.stringify(v) + '\n');
}
