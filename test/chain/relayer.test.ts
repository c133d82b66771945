// The relayer against a real anvil and a real database: simulate → nonce → sign → send → track,
// revert reasons, confirmations, concurrent workers, RPC outages and nonces spent elsewhere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { keccak256, parseGwei, type Hex } from 'viem';
import { Registry } from 'prom-client';
import { createRelayer, type Relayer, type RelayerOptions } from '../../src/chain/relayer.ts';
import { isRpcUnavailable } from '../../src/chain/errors.ts';
import type { ChainContext } from '../../src/chain/context.ts';
import type { MetaTxRow } from '../../src/db/repositories/transaction-requests.ts';
import { NONCE_FILLER_KIND } from '../../src/chain/relayer-store.ts';
import { openPostgres, type Database } from '../../src/db/engine.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, relayerContext, rowOf, startRpcProxy, tickUntilSettled } from './relayer-helpers.ts';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('relayer', () => {
  let c: ChainFixture;
  let database: TestDatabase;
  let n = 0;
  const uniqueName = (prefix: string) => `${prefix} ${++n} ${Date.now()}`;

  const relayer = (opts: Partial<RelayerOptions> = {}) =>
    createRelayer({ database, chain: relayerContext(c), pollIntervalMs: 20, ...opts });

  const relayerNonce = () => c.publicClient.getTransactionCount({ address: c.accounts.relayer.address, blockTag: 'pending' });

  before(async () => {
    [c, database] = await startChainAndDatabase();
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  it('sends an enqueued call once, with the nonce, gas and fees it recorded, and confirms it', async () => {
    const name = uniqueName('Acme');
    const queued = await enqueueMintManufacturer(database.db, c, name);
    const [row] = await tickUntilSettled(relayer(), database.db, [queued.id]);
    assert.equal(row!.status, 'Confirmed');
    assert.equal(row!.failureReason, null);
    const tx = await c.publicClient.getTransaction({ hash: row!.hash as Hex });
    assert.equal(tx.from.toLowerCase(), c.accounts.relayer.address.toLowerCase());
    assert.equal(BigInt(tx.nonce), row!.nonce);
    assert.equal(tx.gas, row!.gasLimit);
    assert.equal(tx.maxFeePerGas, row!.maxFeePerGas);
    assert.equal(tx.maxPriorityFeePerGas, row!.maxPriorityFeePerGas);
    assert.equal(keccak256(row!.signedTx as Hex), row!.hash);
    assert.equal(tx.blockNumber, row!.blockNumber);
    assert.equal(tx.blockHash, row!.blockHash);
    assert.ok((await c.read('getManufacturerIdByName', [name])) as bigint > 0n);
  });

  it('fails a call that reverts in simulation with the contract error in words, sending nothing', async () => {
    const before = await relayerNonce();
    const queued = await enqueueMintManufacturer(database.db, c, 'AutoPi');
    const [row] = await tickUntilSettled(relayer(), database.db, [queued.id]);
    assert.equal(row!.status, 'Failed');
    assert.equal(row!.failureReason, 'The name AutoPi is already registered.');
    assert.equal(row!.hash, null);
    assert.equal(row!.nonce, null);
    assert.equal(await relayerNonce(), before);
  });

  it('gives a batch consecutive nonces in request order and confirms all of it', async () => {
    const start = await relayerNonce();
    const queued = [];
    for (let i = 0; i < 12; i++) queued.push(await enqueueMintManufacturer(database.db, c, uniqueName('Batch')));
    const rows = await tickUntilSettled(relayer({ batchSize: 5 }), database.db, queued.map((q) => q.id));
    assert.deepEqual(rows.map((r) => r.status), rows.map(() => 'Confirmed'));
    assert.deepEqual(rows.map((r) => r.nonce), rows.map((_, i) => BigInt(start + i)));
    assert.equal(await relayerNonce(), start + 12);
  });

  it('fails a transaction that reverts on chain with the reason from replaying it', async () => {
    // Both simulate fine against the same state; the second to be mined hits the first's effect.
    const name = uniqueName('Twice');
    const first = await enqueueMintManufacturer(database.db, c, name);
    const second = await enqueueMintManufacturer(database.db, c, name);
    const [a, b] = await tickUntilSettled(relayer(), database.db, [first.id, second.id]);
    assert.equal(a!.status, 'Confirmed');
    assert.equal(b!.status, 'Failed');
    assert.equal(b!.failureReason, `The name ${name} is already registered.`);
    const receipt = await c.publicClient.getTransactionReceipt({ hash: b!.hash as Hex });
    assert.equal(receipt.status, 'reverted');
    assert.equal(b!.blockNumber, receipt.blockNumber);
  });

  it('settles nothing on a block the embedded chain has not saved to disk yet', async () => {
    // A whole-tree kill loses blocks the state file lacks: a request Confirmed (or Failed) on one
    // would name a block the restarted chain never had.
    const saved: bigint[] = [];
    let saving = false;
    const chain: ChainContext = {
      ...relayerContext(c, { confirmations: 0 }),
      persistThrough: async (block) => {
        if (!saving) throw new Error('state file not written');
        saved.push(block);
      },
    };
    const r = relayer({ chain });
    const name = uniqueName('Saved');
    const ok = await enqueueMintManufacturer(database.db, c, name);
    const reverts = await enqueueMintManufacturer(database.db, c, name);
    let refused: unknown;
    for (let i = 0; i < 50 && !refused; i++) await r.tick().catch((err: unknown) => void (refused = err));
    assert.match(String(refused), /state file not written/);
    for (const id of [ok.id, reverts.id]) assert.ok(!['Confirmed', 'Failed'].includes((await rowOf(database.db, id)).status));

    saving = true;
    const [a, b] = await tickUntilSettled(r, database.db, [ok.id, reverts.id]);
    assert.equal(a!.status, 'Confirmed');
    assert.equal(b!.status, 'Failed');
    const through = saved.reduce((x, y) => (x > y ? x : y), -1n);
    assert.ok(through >= a!.blockNumber! && through >= b!.blockNumber!, `saved through ${through}`);
  });

  /** Ticks `r` until the request is in a block; resolves to its row then. */
  async function tickUntilMined(r: Relayer, id: string): Promise<MetaTxRow> {
    // anvil may answer the send a moment before the block holding it exists.
    for (let i = 0; i < 50 && ['Unsubmitted', 'Submitted'].includes((await rowOf(database.db, id)).status); i++) await r.tick();
    return rowOf(database.db, id);
  }

  /** With 3 confirmations: one block on top leaves the request Mined, a second makes it final. */
  async function mineToDepthThree(r: Relayer, id: string): Promise<MetaTxRow> {
    await c.testClient.mine({ blocks: 1 });
    await r.tick();
    assert.equal((await rowOf(database.db, id)).status, 'Mined');
    await c.testClient.mine({ blocks: 1 });
    await r.tick();
    return rowOf(database.db, id);
  }

  it('waits for the configured confirmations before Confirmed', async () => {
    const r = createRelayer({ database, chain: relayerContext(c, { confirmations: 3 }) });
    const queued = await enqueueMintManufacturer(database.db, c, uniqueName('Deep'));
    const mined = await tickUntilMined(r, queued.id);
    assert.equal(mined.status, 'Mined');
    assert.ok(mined.blockNumber);
    const confirmed = await mineToDepthThree(r, queued.id);
    assert.equal(confirmed.status, 'Confirmed');
    assert.equal(confirmed.blockNumber, mined.blockNumber);
  });

  it('keeps a reverted transaction Mined until the configured confirmations, then fails it with its reason', async () => {
    const r = createRelayer({ database, chain: relayerContext(c, { confirmations: 3 }) });
    // Both simulate fine against the same state; the second to be mined hits the first's effect.
    const name = uniqueName('Reverts');
    await enqueueMintManufacturer(database.db, c, name);
    const queued = await enqueueMintManufacturer(database.db, c, name);
    const mined = await tickUntilMined(r, queued.id);
    assert.equal(mined.status, 'Mined', 'a reorg may still drop the block of a revert; Failed would free the object for a second attempt');
    const failed = await mineToDepthThree(r, queued.id);
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.blockNumber, mined.blockNumber);
    assert.equal(failed.failureReason, `The name ${name} is already registered.`);
  });

  it('calls onSettled once per settled request and counts statuses', async () => {
    const settled: MetaTxRow[] = [];
    const metrics = new Registry();
    const r = relayer({ onSettled: (row) => void settled.push(row), metrics });
    const ok = await enqueueMintManufacturer(database.db, c, uniqueName('Hook'));
    const bad = await enqueueMintManufacturer(database.db, c, 'Macaron');
    await tickUntilSettled(r, database.db, [ok.id, bad.id]);
    await r.tick();
    assert.deepEqual(settled.map((s) => [s.id, s.status]).sort(), [[ok.id, 'Confirmed'], [bad.id, 'Failed']].sort());
    const text = await metrics.metrics();
    assert.match(text, /relayer_transactions_total\{status="Confirmed"\} 1/);
    assert.match(text, /relayer_transactions_total\{status="Failed"\} 1/);
    assert.match(text, /relayer_transactions_total\{status="Submitted"\} 1/);
  });

  it('keeps requests queued while the RPC is unreachable and sends them when it is back', async () => {
    const dead = createRelayer({ database, chain: relayerContext(c, { rpcUrl: `http://127.0.0.1:${await closedPort()}` }) });
    const queued = await enqueueMintManufacturer(database.db, c, uniqueName('Outage'));
    await assert.rejects(dead.tick(), (err) => isRpcUnavailable(err));
    const waiting = await rowOf(database.db, queued.id);
    assert.equal(waiting.status, 'Unsubmitted');
    assert.equal(waiting.nonce, null);
    const [row] = await tickUntilSettled(relayer(), database.db, [queued.id]);
    assert.equal(row!.status, 'Confirmed');
  });

  it('re-sends the same signed bytes after an outage between signing and sending', async () => {
    const proxy = await startRpcProxy(c.anvil.rpcUrl);
    try {
      const start = await relayerNonce();
      const r = createRelayer({
        database,
        chain: relayerContext(c, { rpcUrl: proxy.url }),
        afterStep: (step) => {
          if (step === 'signed') proxy.setDown(true);
        },
      });
      const queued = await enqueueMintManufacturer(database.db, c, uniqueName('Flaky'));
      await assert.rejects(r.tick(), (err) => isRpcUnavailable(err));
      const signed = await rowOf(database.db, queued.id);
      assert.equal(signed.status, 'Unsubmitted');
      assert.ok(signed.hash);
      proxy.setDown(false);
      const [row] = await tickUntilSettled(relayer(), database.db, [queued.id]);
      assert.equal(row!.status, 'Confirmed');
      assert.equal(row!.hash, signed.hash);
      assert.equal(await relayerNonce(), start + 1);
    } finally {
      await proxy.close();
    }
  });

  it('re-simulates with a new nonce when another transaction spent the one it was signed with', async () => {
    const stop = new Error('stop after signing');
    const r = relayer({
      afterStep: (step) => {
        if (step === 'signed') throw stop;
      },
    });
    const name = uniqueName('Spent');
    const queued = await enqueueMintManufacturer(database.db, c, name);
    await assert.rejects(r.tick(), stop);
    const signed = await rowOf(database.db, queued.id);
    // Someone else uses the relayer key at that nonce.
    const other = await c.wallet(c.accounts.relayer).sendTransaction({
      to: c.accounts.relayer.address,
      value: 0n,
      nonce: Number(signed.nonce),
      account: c.accounts.relayer,
      chain: undefined,
    });
    await c.publicClient.waitForTransactionReceipt({ hash: other });
    const [row] = await tickUntilSettled(relayer(), database.db, [queued.id]);
    assert.equal(row!.status, 'Confirmed');
    assert.notEqual(row!.hash, signed.hash);
    assert.ok(row!.nonce! > signed.nonce!);
    await assert.rejects(c.publicClient.getTransaction({ hash: signed.hash as Hex }));
    assert.ok((await c.read('getManufacturerIdByName', [name])) as bigint > 0n);
  });

  it('fails a request whose bytes the node keeps refusing and spends its nonce with a filler', async () => {
    const stop = new Error('stop after signing');
    const r = relayer({
      maxBroadcastAttempts: 2,
      afterStep: (step) => {
        if (step === 'signed') throw stop;
      },
    });
    const refused = await enqueueMintManufacturer(database.db, c, uniqueName('Cheap'));
    await assert.rejects(r.tick(), stop);
    const signed = await rowOf(database.db, refused.id);
    // The base fee jumps above the signed fee cap (and stays there for a few blocks).
    await c.testClient.request({ method: 'anvil_setNextBlockBaseFeePerGas' as never, params: [`0x${(signed.maxFeePerGas! * 4n).toString(16)}`] as never });
    await c.testClient.mine({ blocks: 1 });
    const later = await enqueueMintManufacturer(database.db, c, uniqueName('Later'));
    const plain = relayer({ maxBroadcastAttempts: 2 });
    const [a, b] = await tickUntilSettled(plain, database.db, [refused.id, later.id]);
    assert.equal(a!.status, 'Failed');
    assert.match(a!.failureReason!, /^The chain node refused the transaction: .*base fee/);
    assert.equal(b!.status, 'Confirmed');
    const fillers = await database.db.select().from(metaTransactionRequests).where(eq(metaTransactionRequests.kind, NONCE_FILLER_KIND));
    const filler = fillers.find((f) => f.subject.replaces === refused.id);
    assert.ok(filler);
    await tickUntilSettled(plain, database.db, [filler.id]);
    const filled = await rowOf(database.db, filler.id);
    assert.equal(filled.status, 'Confirmed');
    assert.equal(filled.nonce, signed.nonce);
    assert.ok(b!.nonce! > signed.nonce!);
    await c.testClient.request({ method: 'anvil_setNextBlockBaseFeePerGas' as never, params: [`0x${parseGwei('1').toString(16)}`] as never });
  });

  it('re-broadcasts the same bytes when the node drops a submitted transaction', async () => {
    const r = relayer({ rebroadcastAfterMs: 0 });
    await c.testClient.setAutomine(false);
    try {
      const queued = await enqueueMintManufacturer(database.db, c, uniqueName('Dropped'));
      await r.tick();
      const submitted = await rowOf(database.db, queued.id);
      assert.equal(submitted.status, 'Submitted');
      await c.testClient.request({ method: 'anvil_dropAllTransactions' as never });
      await assert.rejects(c.publicClient.getTransaction({ hash: submitted.hash as Hex }));
      await r.tick();
      assert.equal((await c.publicClient.getTransaction({ hash: submitted.hash as Hex })).hash, submitted.hash);
      await c.testClient.mine({ blocks: 1 });
      const [row] = await tickUntilSettled(r, database.db, [queued.id]);
      assert.equal(row!.status, 'Confirmed');
      assert.equal(row!.hash, submitted.hash);
    } finally {
      await c.testClient.setAutomine(true);
    }
  });

  it('watches a mined transaction again when a reorg removes its block, and confirms it once re-mined', async () => {
    const r = createRelayer({ database, chain: relayerContext(c, { confirmations: 3 }), rebroadcastAfterMs: 0 });
    const queued = await enqueueMintManufacturer(database.db, c, uniqueName('Reorged'));
    for (let i = 0; i < 50 && (await rowOf(database.db, queued.id)).status !== 'Mined'; i++) await r.tick();
    const mined = await rowOf(database.db, queued.id);
    assert.equal(mined.status, 'Mined');
    // Replace the last block (ours) with an empty one: the transaction is gone from the chain.
    await c.testClient.request({ method: 'anvil_reorg' as never, params: [1, []] as never });
    await assert.rejects(c.publicClient.getTransactionReceipt({ hash: mined.hash as Hex }));
    await r.tick();
    const back = await rowOf(database.db, queued.id);
    assert.equal(back.status, 'Submitted');
    assert.equal(back.blockNumber, null);
    for (let i = 0; i < 50 && (await rowOf(database.db, queued.id)).status !== 'Mined'; i++) {
      await r.tick();
      await c.testClient.mine({ blocks: 1 });
    }
    await c.testClient.mine({ blocks: 2 });
    const [row] = await tickUntilSettled(r, database.db, [queued.id]);
    assert.equal(row!.status, 'Confirmed');
    assert.equal(row!.hash, mined.hash);
    assert.notEqual(row!.blockHash, mined.blockHash);
  });

  it('lets two workers race over the same requests without sending any twice', async () => {
    // On PostgreSQL each worker gets its own pool, like two replicas; PGlite has one connection.
    const second: Database = database.url ? openPostgres({ url: database.url, poolSize: 3 }) : database;
    try {
      const start = await relayerNonce();
      const queued = [];
      for (let i = 0; i < 30; i++) queued.push(await enqueueMintManufacturer(database.db, c, uniqueName('Race')));
      const a = createRelayer({ database, chain: relayerContext(c), batchSize: 7 });
      const b = createRelayer({ database: second, chain: relayerContext(c), batchSize: 11 });
      for (let i = 0; i < 40; i++) {
        await Promise.all([a.tick(), b.tick()]);
        const rows = await Promise.all(queued.map((q) => rowOf(database.db, q.id)));
        if (rows.every((r) => r.status === 'Confirmed')) break;
      }
      const rows = await Promise.all(queued.map((q) => rowOf(database.db, q.id)));
      assert.deepEqual(rows.map((r) => r.status), rows.map(() => 'Confirmed'));
      const nonces = rows.map((r) => Number(r.nonce)).sort((x, y) => x - y);
      assert.deepEqual(nonces, nonces.map((_, i) => start + i));
      assert.equal(await relayerNonce(), start + 30);
      assert.equal(new Set(rows.map((r) => r.hash)).size, 30);
    } finally {
      if (second !== database) await second.close();
    }
  });
});
