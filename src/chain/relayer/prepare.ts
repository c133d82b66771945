// Step 1, prepare: Unsubmitted requests without a nonce are simulated from the relayer, outside
// any DB transaction (eth_createAccessList: one run that also gives the gas used;
// eth_estimateGas where the node lacks it). A revert → Failed with the decoded reason; nothing is
// sent. Otherwise one short DB transaction gives the batch consecutive nonces (relayer_accounts
// row lock) and records gas (+margin) and fees.
import type { Hex } from 'viem';
import type { MetaTxRow } from '../../db/repositories/transaction-requests.ts';
import { ChainUnavailableError, isExecutionRevert, revertReasonOf, shortMessage } from '../errors.ts';
import { gasWithMargin } from '../../domain/relay-state.ts';
import { mapLimit, type RelayerContext } from './context.ts';
import { perRequest } from '../../telemetry/tracer.ts';

/** A simulation's verdict: send with this gas, fail with this reason, or try again later (the node failed, not the call). */
type Simulation = { id: string; ok: true; gasLimit: bigint } | { id: string; ok: false; reason: string } | { id: string; ok: 'skip'; error: string };

async function simulate(ctx: RelayerContext, row: MetaTxRow): Promise<Simulation> {
  const call = { from: ctx.from, to: row.toAddress as Hex, data: row.data as Hex };
  try {
    return { id: row.id, ok: true, gasLimit: gasWithMargin(await ctx.node.gasUsedBy(call)) };
  } catch (err) {
    if (err instanceof ChainUnavailableError) throw err;
    if (!isExecutionRevert(err)) return { id: row.id, ok: 'skip', error: shortMessage(err) };
    // Some nodes leave the revert data out of their errors; eth_call carries it.
    let reason = revertReasonOf(err, ctx.revertCtx);
    if (!reason || reason.startsWith('Transaction reverted without')) {
      try {
        await ctx.node.call(call, 'latest');
      } catch (callErr) {
        if (callErr instanceof ChainUnavailableError) throw callErr;
        reason = revertReasonOf(callErr, ctx.revertCtx) ?? reason;
      }
    }
    return { id: row.id, ok: false, reason: reason ?? 'Transaction reverted without a reason.' };
  }
}

/** Resolves to the number of requests that changed (given a nonce, or failed). */
export async function preparePass(ctx: RelayerContext): Promise<number> {
  const { store, node } = ctx;
  // Flow control: no more than maxPending transactions waiting for a block. Sending faster than
  // the chain includes them only grows the node's pool (which slows it, or evicts our
  // transactions) and the latency of every request behind them.
  const room = Math.min(ctx.batchSize, ctx.maxPending - (await store.pendingCount()));
  if (room <= 0) return 0;
  const rows = await store.awaitingPreparation(room);
  if (rows.length === 0) return 0;
  const [fees, pendingNonce, sims] = await Promise.all([
    node.currentFees(),
    node.rpc('getTransactionCount', () => node.pc.getTransactionCount({ address: ctx.from, blockTag: 'pending' })),
    mapLimit(rows, ctx.concurrency, perRequest(ctx.tracer, 'relayer.simulate', (row: MetaTxRow) => simulate(ctx, row))),
  ]);
  const skipped = sims.filter((sim) => sim.ok === 'skip');
  if (skipped.length > 0) {
    ctx.log.warn({ count: skipped.length, requestId: skipped[0]!.id, err: skipped[0]!.error }, 'simulation failed without a revert; will retry');
  }
  let changed = 0;
  for (const sim of sims) {
    if (sim.ok !== false) continue;
    const failed = await store.failUnprepared(sim.id, sim.reason);
    if (failed) {
      changed++;
      await ctx.settled(failed);
    }
  }
  const ok = sims.flatMap((s) => (s.ok === true ? [{ id: s.id, gasLimit: s.gasLimit }] : []));
  return changed + (await store.assignNonces(ok, fees, BigInt(pendingNonce)));
}
