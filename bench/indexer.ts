// Indexer throughput: anvil with the registry deployed and seeded, then a backlog of chain events
// the indexer has not seen — BENCH_INDEXER_DEVICES aftermarket devices minted by the manufacturer's
// batch call (each: a Transfer, AftermarketDeviceNodeMinted and its Serial attribute) and
// BENCH_INDEXER_PRIVILEGES privilege grants on one vehicle (each a PrivilegeSet, its own block).
// The indexer first catches up with the deployment, then the backlog is timed from its cursor
// to the head: eth_getLogs, decoding, and the batch transactions writing PostgreSQL (or PGlite).
//
//   DATABASE_URL=postgres://… node --import tsx bench/indexer.ts
//
// Environment:
//   BENCH_INDEXER_DEVICES     devices to mint (default 2000)   BENCH_INDEXER_PRIVILEGES  grants (default 2000)
//   BENCH_INDEXER_BATCH       indexer batch size in blocks (default 2000)
//   BENCH_INDEXER_RUNS        timed passes, each into a fresh database (default 3; the median is reported)
//   BENCH_VERBOSE=1           print each batch (events, rows written, ms on chain reads and in the database)
//   DATABASE_URL              PostgreSQL server: a fresh database is created for the run and dropped
// Target: at least 2,000 events/s applied to PostgreSQL.
import os from 'node:os';
import { count } from 'drizzle-orm';
import { encodeFunctionData, keccak256, toBytes, type Address, type Hash, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { dimoRegistryAbi, nodeNftAbi } from '../src/chain/abi/index.ts';
import { createChainContext } from '../src/chain/context.ts';
import { createIndexer, type Indexer } from '../src/chain/indexer.ts';
import { aftermarketDevices, nftPrivileges } from '../src/db/schema.ts';
import { openBenchDatabase, reportVerdict, signedVehicleMint, startBenchChain } from './chain-fixture.ts';

const num = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
const DEVICES = num('BENCH_INDEXER_DEVICES', 2000);
const PRIVILEGES = num('BENCH_INDEXER_PRIVILEGES', 2000);
const BATCH_BLOCKS = num('BENCH_INDEXER_BATCH', 2000);
const RUNS = num('BENCH_INDEXER_RUNS', 3);
const DEVICES_PER_TX = 50;
const TARGET = 2000;

/**
 * Sends the transactions with automine off (explicit nonces), then mines blocks until the pool is
 * empty: a burst of thousands of automined sends makes anvil fall behind and lose track of its
 * pending nonce. Blocks fill up to the gas limit, so the backlog spans a few dozen blocks.
 */
async function sendAll(publicClient: PublicClient, from: Address, send: (i: number, nonce: number) => Promise<Hash>, n: number): Promise<void> {
  const rpc = (method: string, params: unknown[] = []) => publicClient.request({ method, params } as never);
  await rpc('evm_setAutomine', [false]);
  try {
    const first = await publicClient.getTransactionCount({ address: from, blockTag: 'pending' });
    let last: Hash | undefined;
    for (let i = 0; i < n; i++) {
      last = await send(i, first + i);
      if (process.env.BENCH_VERBOSE === '1' && i % 500 === 499) console.log(`sent ${i + 1}/${n}`);
    }
    for (let i = 0; i < 10_000; i++) {
      const status: { pending: Hex; queued: Hex } = await rpc('txpool_status');
      if (BigInt(status.pending) === 0n) break;
      await rpc('evm_mine');
    }
    if (last) {
      const r = await publicClient.getTransactionReceipt({ hash: last });
      if (r.status !== 'success') throw new Error('a backlog transaction reverted');
    }
  } finally {
    await rpc('evm_setAutomine', [true]);
  }
}

async function main() {
  const c = await startBenchChain();
  try {
    const { anvil, chainId, deployment, publicClient, seed, wallet } = c;
    const { deployer, relayer, manufacturer, owner } = c.accounts;

    // A vehicle for the privilege grants, minted by the owner's signature through the relayer role.
    const made = await wallet(relayer).writeContract({ address: deployment.registry, abi: dimoRegistryAbi, functionName: 'mintManufacturer', args: [deployer.address, 'Ford', []] });
    await publicClient.waitForTransactionReceipt({ hash: made });
    const ford = await publicClient.readContract({ address: deployment.registry, abi: dimoRegistryAbi, functionName: 'getManufacturerIdByName', args: ['Ford'] });
    const mint = await wallet(relayer).writeContract({
      address: deployment.registry,
      abi: dimoRegistryAbi,
      functionName: 'mintVehicleWithDeviceDefinitionSign',
      args: await signedVehicleMint(c, owner, ford),
    });
    await publicClient.waitForTransactionReceipt({ hash: mint });
    const backlogStart = await publicClient.getBlockNumber();

    const t0 = Date.now();
    const deviceTxs = Math.ceil(DEVICES / DEVICES_PER_TX);
    await sendAll(
      publicClient,
      manufacturer.address,
      (i, nonce) => {
        const n = Math.min(DEVICES_PER_TX, DEVICES - i * DEVICES_PER_TX);
        const infos = Array.from({ length: n }, (_, j) => {
          const k = i * DEVICES_PER_TX + j;
          return { addr: privateKeyToAccount(keccak256(toBytes(`bench device ${k}`))).address, attrInfoPairs: [{ attribute: 'Serial', info: `BENCH-${k}` }] };
        });
        return wallet(manufacturer).sendTransaction({
          to: deployment.registry,
          data: encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'mintAftermarketDeviceByManufacturerBatch', args: [seed.manufacturers.AutoPi!, infos] }),
          gas: 30_000_000n,
          nonce,
        });
      },
      deviceTxs,
    );
    const expires = BigInt(Math.floor(Date.now() / 1000) + 86_400);
    await sendAll(
      publicClient,
      owner.address,
      (i, nonce) =>
        wallet(owner).sendTransaction({
          to: deployment.vehicleId,
          data: encodeFunctionData({ abi: nodeNftAbi, functionName: 'setPrivilege', args: [1n, BigInt(1 + (i % 5)), privateKeyToAccount(keccak256(toBytes(`bench user ${i}`))).address, expires] }),
          gas: 200_000n,
          nonce,
        }),
      PRIVILEGES,
    );
    const head = await publicClient.getBlockNumber();
    console.log(`backlog: ${DEVICES} devices in ${deviceTxs} txs, ${PRIVILEGES} privilege grants, blocks ${backlogStart + 1n}..${head} (built in ${Date.now() - t0} ms)`);

    const verbose = process.env.BENCH_VERBOSE === '1';
    const logger = { info() {}, warn: (o: object, m: string) => console.warn(m, o), error: (o: object, m: string) => console.error(m, o), debug: (o: object, m: string) => verbose && console.log(m, o) };
    const rates: number[] = [];
    let label = '';
    for (let run = 1; run <= RUNS; run++) {
      const opened = await openBenchDatabase('bench_indexer');
      label = opened.label;
      const { database } = opened;
      try {
        const context = (confirmations: number) => createChainContext({ rpcUrl: anvil.rpcUrl, chainId, deployment, relayerAccount: relayer, confirmations });
        // Untimed: everything before the backlog (a confirmation depth that makes backlogStart the
        // newest final block: the head is depth 1).
        const now = await publicClient.getBlockNumber();
        await catchUp(createIndexer({ database, chain: context(Number(now - backlogStart) + 1), batchBlocks: BATCH_BLOCKS, logger, publicBaseUrl: 'http://localhost:8080' }));
        const indexer = createIndexer({ database, chain: context(0), batchBlocks: BATCH_BLOCKS, logger, publicBaseUrl: 'http://localhost:8080' });
        const start = performance.now();
        const applied = await catchUp(indexer);
        const seconds = (performance.now() - start) / 1000;
        const [devices] = await database.db.select({ n: count() }).from(aftermarketDevices);
        const [privileges] = await database.db.select({ n: count() }).from(nftPrivileges);
        if (devices?.n !== DEVICES || privileges?.n !== PRIVILEGES) {
          throw new Error(`indexed ${devices?.n} devices and ${privileges?.n} privileges, expected ${DEVICES} and ${PRIVILEGES}`);
        }
        if (applied !== DEVICES * 3 + PRIVILEGES) throw new Error(`the timed pass applied ${applied} events, expected ${DEVICES * 3 + PRIVILEGES}`);
        rates.push(applied / seconds);
        console.log(`run ${run}: ${applied} events in ${seconds.toFixed(2)} s = ${Math.round(applied / seconds)} events/s (load average ${os.loadavg()[0]!.toFixed(1)})`);
      } finally {
        await opened.drop();
      }
    }
    const sorted = [...rates].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const verdict = {
      value: `${Math.round(median).toLocaleString('en-US')} events/s`,
      target: `≥ ${TARGET.toLocaleString('en-US')} events/s`,
      met: median >= TARGET,
      details: [
        `${label}, batches of ${BATCH_BLOCKS} blocks, ${DEVICES * 3 + PRIVILEGES} events (${DEVICES * 2 + PRIVILEGES} with an effect + ${DEVICES} mint Transfers): ` +
          `median of ${RUNS} runs, best ${Math.round(sorted[sorted.length - 1]!)} events/s`,
      ],
    };
    console.log(`indexer: ${verdict.value} (target ${verdict.target}: ${verdict.met ? 'met' : 'MISSED'})`);
    for (const d of verdict.details) console.log(`  ${d}`);
    reportVerdict(verdict);
  } finally {
    await c.anvil.stop();
  }
}

async function catchUp(indexer: Indexer): Promise<number> {
  let applied = 0;
  for (;;) {
    const r = await indexer.tick();
    applied += r.applied;
    if (r.caughtUp) return applied;
  }
}

await main();
