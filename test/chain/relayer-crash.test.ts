// Kill -9 the relayer between steps and restart it: each request ends Confirmed with the hash it
// was first signed with, and the chain holds exactly one transaction per request (a vehicle mint,
// which would happily mint twice, shows it).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inArray } from 'drizzle-orm';
import type { Hex } from 'viem';
import { nodeNftAbi } from '../../src/chain/abi/index.ts';
import { enqueueTransaction, type MetaTxRow } from '../../src/db/repositories/transaction-requests.ts';
import { openPglite, type Database } from '../../src/db/engine.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, vehicleMintData } from './relayer-helpers.ts';

const WORKER = fileURLToPath(new URL('./fixtures/relayer-worker.ts', import.meta.url));

interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

describe('relayer killed mid-flight', () => {
  let c: ChainFixture;
  let database: TestDatabase;

  before(async () => {
    [c, database] = await startChainAndDatabase();
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  /** Runs the worker process to its end (or its self-inflicted SIGKILL). */
  function runWorker(crashAfter?: 'signed' | 'broadcast'): Promise<WorkerExit> {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      RPC_URL: c.anvil.rpcUrl,
      CHAIN_ID: String(c.chainId),
      DEPLOYMENT: JSON.stringify({ ...c.deployment, deployBlock: String(c.deployment.deployBlock) }),
      RELAYER_ACCOUNT_INDEX: '1',
      ...(crashAfter ? { RELAYER_CRASH_AFTER: crashAfter } : {}),
    };
    delete env.DATABASE_URL;
    delete env.PGLITE_DIR;
    if (database.url) env.DATABASE_URL = database.url;
    else env.PGLITE_DIR = database.dataDir!;
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve({ code, signal, output }));
    });
  }

  /** Reads the requests; with PGlite the directory is opened only while no worker runs. */
  async function readRows(ids: string[]): Promise<MetaTxRow[]> {
    const db: Database = database.url ? database : await openPglite({ dataDir: database.dataDir! });
    try {
      const rows = await db.db.select().from(metaTransactionRequests).where(inArray(metaTransactionRequests.id, ids));
      return ids.map((id) => rows.find((r) => r.id === id)!);
    } finally {
      if (db !== database) await db.close();
    }
  }

  /** Every transaction the relayer sent since `fromBlock`, by nonce. */
  async function relayerTransactions(fromBlock: bigint): Promise<Map<number, Hex[]>> {
    const head = await c.publicClient.getBlockNumber();
    const byNonce = new Map<number, Hex[]>();
    for (let n = fromBlock; n <= head; n++) {
      const block = await c.publicClient.getBlock({ blockNumber: n, includeTransactions: true });
      for (const tx of block.transactions) {
        if (tx.from.toLowerCase() !== c.accounts.relayer.address.toLowerCase()) continue;
        byNonce.set(tx.nonce, [...(byNonce.get(tx.nonce) ?? []), tx.hash]);
      }
    }
    return byNonce;
  }

  it('resumes after a kill after signing and a kill after broadcasting, sending each request exactly once', async () => {
    const startBlock = (await c.publicClient.getBlockNumber()) + 1n;
    const alice = c.accounts.alice;
    const vehiclesBefore = await c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName: 'balanceOf', args: [alice.address] });
    const requests = [
      await enqueueTransaction(database.db, {
        kind: 'MintVehicle',
        userId: 'alice',
        to: c.deployment.registry,
        data: await vehicleMintData(c, alice),
        subject: { userDeviceId: 'crash-test' },
      }),
      await enqueueMintManufacturer(database.db, c, `Crash Motors ${Date.now()}`),
      await enqueueMintManufacturer(database.db, c, `Kill Nine ${Date.now()}`),
    ];
    const ids = requests.map((r) => r.id);
    if (!database.url) await database.close(); // the worker must own the PGlite directory

    // 1. Killed right after the signed bytes were stored: nothing broadcast yet.
    const first = await runWorker('signed');
    assert.equal(first.signal, 'SIGKILL', first.output);
    const signed = await readRows(ids);
    for (const row of signed) {
      assert.equal(row.status, 'Unsubmitted');
      assert.ok(row.hash && row.signedTx && row.nonce !== null);
      await assert.rejects(c.publicClient.getTransaction({ hash: row.hash as Hex }), /could not be found/);
    }

    // 2. Restarted, killed right after broadcasting, before recording it.
    const second = await runWorker('broadcast');
    assert.equal(second.signal, 'SIGKILL', second.output);
    const broadcast = await readRows(ids);
    for (const [i, row] of broadcast.entries()) {
      assert.equal(row.status, 'Unsubmitted');
      assert.equal(row.hash, signed[i]!.hash);
      assert.equal((await c.publicClient.getTransaction({ hash: row.hash as Hex })).hash, row.hash);
    }

    // 3. Restarted to the end.
    const third = await runWorker();
    assert.equal(third.code, 0, third.output);
    const done = await readRows(ids);
    const sent = await relayerTransactions(startBlock);
    for (const [i, row] of done.entries()) {
      assert.equal(row.status, 'Confirmed', `${row.id}: ${row.failureReason}`);
      assert.equal(row.hash, signed[i]!.hash);
      assert.deepEqual(sent.get(Number(row.nonce)), [row.hash]);
    }
    assert.equal(sent.size, ids.length);
    const vehiclesAfter = await c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName: 'balanceOf', args: [alice.address] });
    assert.equal(vehiclesAfter, vehiclesBefore + 1n);
  });
});
