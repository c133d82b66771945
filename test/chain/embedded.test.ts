import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWalletClient, http } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import {
  assertChainMatchesDatabase,
  chainPaths,
  devAccount,
  LostChainStateError,
  readChainFile,
  readChainRuntime,
  startEmbeddedChain,
  type EmbeddedChain,
} from '../../src/chain/embedded.ts';
import { createIndexer } from '../../src/chain/indexer.ts';
import { aftermarketDevices, chainCursor, integrations } from '../../src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const dirs: string[] = [];
const running = new Set<EmbeddedChain>();

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-api-embedded-'));
  dirs.push(d);
  return d;
}

async function start(dataDir: string, extra: { chainId?: number; redoUnfinishedDeploy?: boolean } = {}): Promise<EmbeddedChain> {
  const chain = await startEmbeddedChain({ dataDir, confirmations: 1, stateInterval: 1, ...extra });
  running.add(chain);
  return chain;
}

async function stop(chain: EmbeddedChain): Promise<void> {
  await chain.stop();
  running.delete(chain);
}

after(async () => {
  for (const c of running) await c.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function mintDevice(chain: EmbeddedChain, serial: string) {
  const ctx = chain.context;
  const wallet = createWalletClient({ account: devAccount(chain.file, 'manufacturerOwner'), chain: ctx.chain, transport: http(ctx.rpcUrl) });
  const [minted] = await mintAftermarketDevices({
    publicClient: ctx.publicClient,
    walletClient: wallet,
    registry: ctx.deployment.registry,
    manufacturerNode: chain.file.seed.manufacturers.AutoPi!,
    devices: [{ serial, address: privateKeyToAccount(generatePrivateKey()).address }],
  });
  return minted!;
}

describe('embedded chain', () => {
  it('deploys and seeds on first start, and survives a restart with the same registry and its tokens', async () => {
    const dir = tempDir();
    const first = await start(dir);
    assert.equal(first.deployed, true);
    const file = readChainFile(dir);
    assert.deepEqual(file, first.file);
    assert.deepEqual(Object.keys(file.seed.manufacturers), ['AutoPi', 'Macaron']);
    assert.deepEqual(Object.keys(file.seed.integrations), ['SmartCar', 'Tesla']);
    assert.deepEqual(readChainRuntime(dir), { rpcUrl: first.context.rpcUrl, pid: process.pid, anvilPid: first.anvil.process.pid, startedAt: readChainRuntime(dir)!.startedAt });
    assert.ok(first.context.admin, 'the embedded chain has an admin signer for make minting');

    const device = await mintDevice(first, 'restart-1');
    const mintedBlock = await first.context.publicClient.getBlock();
    await stop(first);
    assert.equal(readChainRuntime(dir), undefined, 'the runtime file goes with the server');
    assert.ok(fs.existsSync(chainPaths(dir).state));

    const second = await start(dir);
    assert.equal(second.deployed, false);
    assert.deepEqual(second.context.deployment, first.context.deployment);
    assert.notEqual(second.context.rpcUrl, undefined);
    const id = await second.context.publicClient.readContract({
      address: second.context.deployment.registry,
      abi: dimoRegistryAbi,
      functionName: 'getAftermarketDeviceIdByAddress',
      args: [device.address],
    });
    assert.equal(id, device.tokenId);
    const sameBlock = await second.context.publicClient.getBlock({ blockNumber: mintedBlock.number });
    assert.equal(sameBlock.hash, mintedBlock.hash, 'block hashes survive, so the indexer cursor stays valid');
    await stop(second);
  });

  it('refuses to start when the chain state file was lost, and says how to start over', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    fs.rmSync(chainPaths(dir).state);
    await assert.rejects(start(dir), (e: unknown) => {
      assert.ok(e instanceof LostChainStateError);
      assert.match(e.message, /chain-state\.json is missing/);
      assert.match(e.message, new RegExp(`delete ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      return true;
    });
    assert.equal(readChainRuntime(dir), undefined);
  });

  it('refuses a state file without the chain.json that says where the registry is, once the database describes that chain', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    fs.rmSync(chainPaths(dir).chain);
    await assert.rejects(start(dir), /chain-state\.json exists but chain\.json .* is missing/);
  });

  it('deploys again after a first start that stopped during its deploy (a state file, no chain.json, nothing indexed)', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    fs.rmSync(chainPaths(dir).chain); // what a kill between anvil's first dump and chain.json leaves
    assert.ok(fs.existsSync(chainPaths(dir).state));
    const again = await start(dir, { redoUnfinishedDeploy: true });
    assert.equal(again.deployed, true);
    assert.deepEqual(readChainFile(dir), again.file);
    await mintDevice(again, 'redeployed-1');
    await stop(again);
  });

  it('refuses a state that has no registry at the recorded address', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    const raw = JSON.parse(fs.readFileSync(chainPaths(dir).chain, 'utf8'));
    raw.deployment.registry = '0x000000000000000000000000000000000000dEaD';
    fs.writeFileSync(chainPaths(dir).chain, JSON.stringify(raw));
    await assert.rejects(start(dir), (e: unknown) => e instanceof LostChainStateError && /no registry at 0x000000000000000000000000000000000000dEaD/.test(e.message));
    assert.equal(readChainRuntime(dir), undefined, 'a refused start leaves no runtime file and no anvil behind');
  });

  it('refuses a CHAIN_ID other than the one the data directory was created with', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    await assert.rejects(start(dir, { chainId: 1337 }), /CHAIN_ID=1337 but the embedded chain .* was created with chain id 31337/);
  });
});

describe('indexing a chain restarted from its state file', () => {
  it('indexes every event although the restored chain has no state for past blocks (as a pruned node)', async () => {
    const dir = tempDir();
    await stop(await start(dir));
    const chain = await start(dir);
    const db = await createTestDatabase();
    try {
      const device = await mintDevice(chain, 'pruned-1');
      const indexer = createIndexer({ database: db, chain: chain.context, publicBaseUrl: 'http://localhost:8080' });
      for (let i = 0; i < 20 && !(await indexer.tick()).caughtUp; i++);
      const names = (await db.db.select().from(integrations)).map((r) => r.name).sort();
      assert.deepEqual(names, ['SmartCar', 'Tesla']);
      const devices = await db.db.select().from(aftermarketDevices);
      assert.ok(devices.some((d) => d.tokenId === device.tokenId), 'the device minted after the restart is indexed');
    } finally {
      await db.destroy();
      await stop(chain);
    }
  });
});

describe('assertChainMatchesDatabase', () => {
  let chain: EmbeddedChain;
  let db: TestDatabase;
  before(async () => {
    chain = await start(tempDir());
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.destroy();
  });

  async function setCursor(blockNumber: bigint, blockHash: string) {
    await db.db.delete(chainCursor);
    await db.db.insert(chainCursor).values({ id: 'registry', blockNumber, blockHash });
  }

  it('accepts a database the indexer has not started on', async () => {
    await db.db.delete(chainCursor);
    await assertChainMatchesDatabase(chain.context, db.db, 'data');
  });

  it('accepts a cursor whose block is on the chain', async () => {
    const block = await chain.context.publicClient.getBlock();
    await setCursor(block.number, block.hash);
    await assertChainMatchesDatabase(chain.context, db.db, 'data');
  });

  it('refuses a cursor whose block hash differs from the chain\'s', async () => {
    const block = await chain.context.publicClient.getBlock();
    await setCursor(block.number, `0x${'ab'.repeat(32)}`);
    await assert.rejects(assertChainMatchesDatabase(chain.context, db.db, 'data'), (e: unknown) => e instanceof LostChainStateError && /has hash .* on the chain but 0xabab/.test(e.message));
  });

  it('refuses a cursor beyond the chain\'s head (a chain restarted from nothing)', async () => {
    const head = await chain.context.publicClient.getBlockNumber();
    await setCursor(head + 100n, `0x${'ab'.repeat(32)}`);
    await assert.rejects(assertChainMatchesDatabase(chain.context, db.db, 'data'), /indexed up to block .* but the chain's latest block is/);
  });
});

describe('a leftover anvil', () => {
  it('blocks a start on the same data directory instead of letting two anvils share one state file', async () => {
    const dir = tempDir();
    const first = await start(dir);
    // What a server killed together with its watchdog leaves: a runtime file naming a live anvil.
    const runtime = readChainRuntime(dir)!;
    fs.writeFileSync(chainPaths(dir).runtime, JSON.stringify({ ...runtime, pid: 999_999_999 }));
    await assert.rejects(start(dir), /An anvil from an earlier run still serves the chain of .* Stop it \(its command line names .*chain-state\.json\)/);
    await stop(first);
  });
});
