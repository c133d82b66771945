// Nonce gaps: the chain (with its pool) lacks a nonce the relayer handed out. A reorg deeper than
// the confirmations (or a node that lost its pool) dropped transactions of ours; every later one
// would wait in the pool's queued part forever. The nonce is not released but filled.
import type { Hex } from 'viem';
import type { MetaTxRow } from '../../db/repositories/transaction-requests.ts';
import type { Fees } from '../relayer-store.ts';
import type { RelayerContext } from './context.ts';
import { keepBroadcast } from './send.ts';

/** Resolves to the number of requests it changed. */
export type NonceGapFiller = (chainNonce: bigint) => Promise<number>;

/**
 * A nonce gap: the chain's count (pool included) is below the next nonce we hand out, and the
 * lowest missing nonce is not one our send pass is about to broadcast. Once the gap has lasted
 * `nonceGapGraceMs` (a node behind a load balancer may briefly report less), each missing nonce
 * is filled in order: the request holding it goes back to Submitted (its block is gone) and its
 * stored signed bytes are broadcast again, same hash, so there is still one transaction per
 * request; a nonce no request holds is spent by a filler.
 */
export function createNonceGapFiller(ctx: RelayerContext): NonceGapFiller {
  // The lowest nonce the chain (with its pool) lacks, and since when, while it looks like a gap.
  let gap: { nonce: bigint; since: number } | null = null;

  /** The missing nonces to fill now, or none while there is no gap or it is still young. */
  async function missingNonces(chainNonce: bigint): Promise<bigint[]> {
    const next = await ctx.store.nextNonce();
    // No gap; or the nonce is handed out and not yet broadcast: the send pass's, not a gap.
    if (next === null || chainNonce >= next || (await ctx.store.lowestUnsentNonce()) === chainNonce) {
      gap = null;
      return [];
    }
    const now = Date.now();
    if (gap?.nonce !== chainNonce) gap = { nonce: chainNonce, since: now };
    if (now - gap.since < ctx.nonceGapGraceMs) return [];
    gap = null;
    ctx.log.warn(
      { chainNonce: String(chainNonce), nextNonce: String(next) },
      'relayer: nonce gap: the chain lacks transactions of ours (a reorg deeper than CHAIN_CONFIRMATIONS, or a node that lost its pool); re-broadcasting them',
    );
    const end = next < chainNonce + BigInt(ctx.batchSize) ? next : chainNonce + BigInt(ctx.batchSize);
    const nonces: bigint[] = [];
    for (let n = chainNonce; n < end; n++) nonces.push(n);
    return nonces;
  }

  /** A request holding a missing nonce: back to Submitted if it had settled, and its bytes sent again. */
  async function rebroadcast(row: MetaTxRow): Promise<number> {
    if (row.status === 'Unsubmitted' || !row.signedTx || !row.hash) return 0;
    let changed = 0;
    if (row.status !== 'Submitted') {
      // A node lagging behind the one that answered the count may still have it.
      if (await ctx.node.receiptOf(row.hash as Hex)) return 0;
      const moved = await ctx.store.transition('Submitted', [{ row, blockHash: null, blockNumber: null, failureReason: null }]);
      if (moved.length === 0) return 0;
      changed++;
      ctx.log.warn({ requestId: row.id, hash: row.hash, was: row.status }, 'transaction left the chain (reorg deeper than the confirmations); back to Submitted, re-broadcasting the same signed bytes');
    }
    return changed + (await keepBroadcast(ctx, { ...row, status: 'Submitted' }));
  }

  return async (chainNonce) => {
    const nonces = await missingNonces(chainNonce);
    if (nonces.length === 0) return 0;
    const holders = await ctx.store.nonceHolders(nonces);
    let changed = 0;
    let fees: Fees | undefined;
    for (const nonce of nonces) {
      const held = holders.filter((h) => h.nonce === nonce);
      for (const row of held) changed += await rebroadcast(row);
      if (held.length > 0) continue;
      fees ??= await ctx.node.currentFees();
      if (await ctx.store.fillUnheldNonce(nonce, fees)) {
        ctx.log.warn({ nonce: String(nonce) }, 'relayer: no request holds a missing nonce; a filler transaction spends it');
        changed++;
      }
    }
    return changed;
  };
}
