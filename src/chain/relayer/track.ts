// Step 4, track: Submitted/Mined → receipt → Mined → Confirmed at `confirmations` depth; a
// reverted receipt → Failed with the reason from replaying the call; a receipt that vanished
// (reorg) → back to Submitted; a Submitted transaction still outside any block after
// `rebroadcastAfterMs` is looked up and, if the node forgot it, re-broadcast (same bytes).
import { toHex, type Hex } from 'viem';
import type { MetaTxRow } from '../../db/repositories/transaction-requests.ts';
import type { Transition, WatchedRow } from '../relayer-store.ts';
import { ChainUnavailableError, revertReasonOf } from '../errors.ts';
import { trackedStatus } from '../../domain/relay-state.ts';
import { mapLimit, type RelayerContext } from './context.ts';
import { keepBroadcast } from './send.ts';
import type { NonceGapFiller } from './nonce-gap.ts';
import { ATTR, perRequest } from '../../telemetry/tracer.ts';

/**
 * Why a mined transaction reverted: replay the call just before its block, then at it. A node
 * without state for those blocks (not an archive node and the block is old, e.g. after the
 * relayer was down; anvil restored from its state file) refuses both: then the latest block
 * (the reason it would fail now, usually the same) rather than no reason at all.
 */
async function revertReasonOfMined(ctx: RelayerContext, row: MetaTxRow, blockNumber: bigint, gasUsed: bigint): Promise<string> {
  const call = { from: ctx.from, to: row.toAddress as Hex, data: row.data as Hex, gas: toHex(row.gasLimit!) };
  let ranAtItsBlock = false;
  for (const at of [toHex(blockNumber - 1n), toHex(blockNumber), 'latest'] as const) {
    if (at === 'latest' && ranAtItsBlock) break;
    try {
      await ctx.node.call(call, at);
      ranAtItsBlock = true;
    } catch (err) {
      if (err instanceof ChainUnavailableError) throw err;
      const reason = revertReasonOf(err, ctx.revertCtx);
      if (reason) return reason;
    }
  }
  return row.gasLimit !== null && gasUsed >= row.gasLimit ? 'Transaction ran out of gas.' : 'Transaction reverted without a reason.';
}

type Decision = { to: 'Submitted' | 'Mined' | 'Confirmed' | 'Failed'; transition: Transition } | { to: 'none'; changed: number };

/** What a watched request's receipt says; the writes are batched by trackPass. */
async function decide(ctx: RelayerContext, row: WatchedRow, head: bigint, minedNonce: bigint): Promise<Decision> {
  if (row.status === 'Submitted' && row.fromAddress === ctx.fromLower && row.nonce !== null && row.nonce >= minedNonce) {
    // No block holds this nonce of ours yet, so there is no receipt to ask for. One that has
    // waited long is checked: re-broadcast if the node forgot it (restart, mempool eviction).
    return { to: 'none', changed: row.stale ? await keepBroadcast(ctx, row) : 0 };
  }
  const receipt = await ctx.node.receiptOf(row.hash as Hex);
  // The head was read before the receipts; a block mined since is at least as deep as its own.
  const tip = receipt && receipt.blockNumber > head ? receipt.blockNumber : head;
  const next = trackedStatus(receipt && { status: receipt.status, blockNumber: receipt.blockNumber }, tip, ctx.chain.confirmations);
  if (next === 'Submitted' || !receipt) {
    // Mined but its receipt is gone: its block was reorganised away; watch it again.
    if (row.status === 'Mined') return { to: 'Submitted', transition: { row, blockHash: null, blockNumber: null } };
    return { to: 'none', changed: await keepBroadcast(ctx, row) };
  }
  const block = { blockHash: receipt.blockHash, blockNumber: receipt.blockNumber };
  if (next === 'Mined' && row.status === 'Mined' && row.blockHash === receipt.blockHash) return { to: 'none', changed: 0 };
  if (next === 'Failed') {
    const failureReason = await revertReasonOfMined(ctx, row, receipt.blockNumber, receipt.gasUsed);
    return { to: 'Failed', transition: { row, ...block, failureReason } };
  }
  return { to: next, transition: { row, ...block } };
}

/** A receipt look-up that changed nothing is not worth a span (they repeat every tick). */
function receiptAttributes(d: Decision) {
  if (d.to === 'none') return d.changed > 0 ? { [ATTR.txStatus]: 'requeued' } : null;
  return { [ATTR.txStatus]: d.to, ...(d.transition.blockNumber !== null && d.transition.blockNumber !== undefined ? { [ATTR.blockNumber]: Number(d.transition.blockNumber) } : {}) };
}

/** Writes the decisions, one batch per target status; resolves to the rows moved. */
async function applyDecisions(ctx: RelayerContext, decisions: Decision[]): Promise<number> {
  let changed = 0;
  for (const to of ['Submitted', 'Mined', 'Confirmed', 'Failed'] as const) {
    const batch = decisions.flatMap((d) => (d.to === to ? [d.transition] : []));
    const moved = await ctx.store.transition(to, batch);
    changed += moved.length;
    if (to === 'Submitted') {
      for (const r of moved) ctx.log.warn({ requestId: r.id, hash: r.hash }, 'transaction left the chain (reorg); watching it again');
      continue;
    }
    // Passing through Mined within one look counts as reaching it.
    const wasSubmitted = new Set(batch.filter((t) => t.row.status === 'Submitted').map((t) => t.row.id));
    ctx.counted('Mined', moved.filter((r) => wasSubmitted.has(r.id) && (to === 'Mined' || to === 'Confirmed')).length);
    if (to === 'Confirmed' || to === 'Failed') for (const r of moved) await ctx.settled(r);
  }
  for (const d of decisions) if (d.to === 'none') changed += d.changed;
  return changed;
}

export async function trackPass(ctx: RelayerContext, fillNonceGap: NonceGapFiller): Promise<number> {
  const { node, from } = ctx;
  const [head, minedNonce, chainNonce] = await Promise.all([
    node.rpc('getBlockNumber', () => node.pc.getBlockNumber({ cacheTime: 0 })),
    node.rpc('getTransactionCount', () => node.pc.getTransactionCount({ address: from, blockTag: 'latest' }).then(BigInt)),
    node.rpc('getTransactionCount', () => node.pc.getTransactionCount({ address: from, blockTag: 'pending' }).then(BigInt)),
  ]);
  const filled = await fillNonceGap(chainNonce);
  const rows = await ctx.store.inFlight(ctx.batchSize * 4, ctx.rebroadcastAfterMs, minedNonce);
  if (rows.length === 0) return filled;
  const decisions = await mapLimit(rows, ctx.concurrency, perRequest(ctx.tracer, 'relayer.receipt', (row: WatchedRow) => decide(ctx, row, head, minedNonce), receiptAttributes));
  // Embedded chain: settle nothing on a block its state file lacks, as the indexer does; a kill
  // of the whole tree would leave a request Confirmed (and notified) on a block the restarted
  // chain never had.
  const settling = decisions.flatMap((d) => (d.to === 'Confirmed' || d.to === 'Failed') && d.transition.blockNumber ? [d.transition.blockNumber] : []);
  if (settling.length > 0) await ctx.chain.persistThrough?.(settling.reduce((a, b) => (a > b ? a : b)));
  return (await applyDecisions(ctx, decisions)) + filled;
}
