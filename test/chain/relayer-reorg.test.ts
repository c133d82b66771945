// A reorg deeper than CHAIN_CONFIRMATIONS drops transactions of requests the relayer had already
// settled. The relayer notices the nonce gap, puts those requests back to Submitted, re-broadcasts
// their stored signed bytes (same hash: one transaction per request), and every request, the
// ones relayed after the reorg included, settles again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Hex } from 'viem';
import { createRelayer } from '../../src/chain/relayer.ts';
import type { MetaTxRow } from '../../src/db/repositories/transaction-requests.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, relayerContext, rowOf, tickUntilSettled } from './relayer-helpers.ts';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('relayer after a deep reorg', () => {
  let c: ChainFixture;
  let database: TestDatabase;
  let n = 0;
  const name = (p: string) => `${p} ${++n} ${Date.now()}`;
  const relayerNonce = (blockTag: 'latest' | 'pending') => c.publicClient.getTransactionCount({ address: c.accounts.relayer.address, blockTag });

  before(async () => {
    [c, database] = await startChainAndDatabase();
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  /**
   * Ticks the relayer (as its loop does, 100 ms apart) until every request is Confirmed (bounded),
   * recording each request's status after every tick. Ticking here rather than starting the loop
   * makes the record complete: a status one tick set is read before the next tick can change it,
   * where sampling a running loop can miss a Submitted that lasted a single tick.
   */
  async function settleRecording(ids: string[], boundMs: number, seen: Map<string, Set<string>>): Promise<MetaTxRow[]> {
    const relayer = createRelayer({ database, chain: relayerContext(c) });
    const end = Date.now() + boundMs;
    for (;;) {
      await relayer.tick();
      const rows = await Promise.all(ids.map((id) => rowOf(database.db, id)));
      for (const r of rows) {
        const statuses = seen.get(r.id) ?? new Set<string>();
        statuses.add(r.status);
        seen.set(r.id, statuses);
      }
      if (rows.every((r) => r.status === 'Confirmed')) return rows;
      if (Date.now() > end) assert.fail(`not all Confirmed within ${boundMs} ms: ${rows.map((r) => `${r.id}=${r.status}`).join(', ')}`);
      await delay(100);
    }
  }

  async function checkOneTransactionEach(rows: MetaTxRow[], before: MetaTxRow[], startNonce: number) {
    for (const [i, b] of before.entries()) assert.equal(rows[i]!.hash, b.hash, 'the same signed bytes, not a second transaction');
    for (const r of rows) {
      const receipt = await c.publicClient.getTransactionReceipt({ hash: r.hash as Hex });
      assert.equal(receipt.status, 'success');
      assert.equal(r.blockHash, receipt.blockHash);
    }
    assert.equal(await relayerNonce('latest'), startNonce + rows.length, 'one transaction per request');
  }

  for (const how of ['anvil_reorg', 'evm_revert'] as const) {
    it(`settles every request again within 10 s after ${how} drops confirmed transactions, sending each once`, async () => {
      const start = await relayerNonce('latest');
      const snapshot = how === 'evm_revert' ? await c.testClient.snapshot() : undefined;
      const done = await Promise.all([name('Deep A'), name('Deep B')].map((x) => enqueueMintManufacturer(database.db, c, x)));
      const confirmed = await tickUntilSettled(createRelayer({ database, chain: relayerContext(c) }), database.db, done.map((d) => d.id));
      assert.ok(confirmed.every((r) => r.status === 'Confirmed'));

      if (snapshot) await c.testClient.revert({ id: snapshot });
      else await c.testClient.request({ method: 'anvil_reorg' as never, params: [3, []] as never });
      for (const r of confirmed) await assert.rejects(c.publicClient.getTransactionReceipt({ hash: r.hash as Hex }));
      assert.equal(await relayerNonce('pending'), start, 'the dropped transactions are in no block and no pool');

      // A request relayed after the reorg gets the next stored nonce, above the gap.
      const later = await enqueueMintManufacturer(database.db, c, name('After reorg'));
      const seen = new Map<string, Set<string>>();
      const rows = await settleRecording([...done.map((d) => d.id), later.id], 10_000, seen);
      await checkOneTransactionEach(rows, confirmed, start);
      for (const d of done) assert.ok(seen.get(d.id)!.has('Submitted'), 'a request whose transaction left the chain shows Submitted before Confirmed');
      assert.ok(rows[2]!.nonce! > confirmed[1]!.nonce!);
    });
  }
});
