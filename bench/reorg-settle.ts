// Deep reorg on anvil, repeated: how long after the reorg every request is Confirmed again, and
// that each still has one transaction. Per try: two requests relayed and Confirmed, then a reorg
// deeper than the confirmations (anvil_reorg of 3 blocks, or evm_revert to a snapshot taken
// before them) drops both; one more request is enqueued; the relayer's loop runs until all three
// are Confirmed. The test (test/chain/relayer-reorg.test.ts) proves the behaviour once each way;
// this measures it. Usage: node --import tsx bench/reorg-settle.ts [tries per kind=5]
import { createRelayer } from '../src/chain/relayer.ts';
import { startChain } from '../test/chain/helpers.ts';
import { enqueueMintManufacturer, relayerContext, rowOf, tickUntilSettled } from '../test/chain/relayer-helpers.ts';
import { createTestDatabase } from '../test/helpers/db.ts';

const TRIES = Number(process.argv[2] ?? 5);
const [c, database] = await Promise.all([startChain(), createTestDatabase()]);
const relayerNonce = () => c.publicClient.getTransactionCount({ address: c.accounts.relayer.address, blockTag: 'latest' });
let n = 0;
const name = (p: string) => `${p} ${++n} ${Date.now()}`;
const results: Record<string, number[]> = { anvil_reorg: [], evm_revert: [] };
let extraTransactions = 0;
try {
  for (let i = 0; i < TRIES; i++) {
    for (const how of ['anvil_reorg', 'evm_revert'] as const) {
      const start = await relayerNonce();
      const snapshot = how === 'evm_revert' ? await c.testClient.snapshot() : undefined;
      const done = await Promise.all([name('Deep A'), name('Deep B')].map((x) => enqueueMintManufacturer(database.db, c, x)));
      await tickUntilSettled(createRelayer({ database, chain: relayerContext(c) }), database.db, done.map((d) => d.id));
      if (snapshot) await c.testClient.revert({ id: snapshot });
      else await c.testClient.request({ method: 'anvil_reorg' as never, params: [3, []] as never });
      const t0 = performance.now();
      const later = await enqueueMintManufacturer(database.db, c, name('After reorg'));
      const ids = [...done.map((d) => d.id), later.id];
      const relayer = createRelayer({ database, chain: relayerContext(c), pollIntervalMs: 100 });
      relayer.start();
      try {
        for (;;) {
          const rows = await Promise.all(ids.map((id) => rowOf(database.db, id)));
          if (rows.every((r) => r.status === 'Confirmed')) break;
          if (performance.now() - t0 > 60_000) throw new Error(`${how}: not all Confirmed within 60 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await relayer.stop();
      }
      const ms = performance.now() - t0;
      results[how]!.push(ms);
      extraTransactions += (await relayerNonce()) - start - ids.length;
      console.log(`${how} try ${i + 1}: all 3 Confirmed ${(ms / 1000).toFixed(2)} s after the reorg`);
    }
  }
} finally {
  await Promise.all([c.stop(), database.destroy()]);
}
const fmt = (xs: number[]) => `min ${(Math.min(...xs) / 1000).toFixed(2)} s, max ${(Math.max(...xs) / 1000).toFixed(2)} s`;
console.log(`anvil_reorg: ${fmt(results.anvil_reorg!)}; evm_revert: ${fmt(results.evm_revert!)}; transactions beyond one per request: ${extraTransactions}`);
