// Step 3, send: signed, still Unsubmitted → eth_sendRawTransaction in nonce order → Submitted.
// A crash before the status update re-sends the same bytes: "already known" or "nonce too low"
// with our hash found on chain both count as sent. Also the re-broadcast of a Submitted
// transaction the node dropped (used by track and by the nonce-gap filler).
import type { Hex } from 'viem';
import type { MetaTxRow } from '../../db/repositories/transaction-requests.ts';
import { NONCE_FILLER_KIND } from '../relayer-store.ts';
import { ChainUnavailableError, shortMessage } from '../errors.ts';
import { classifyBroadcastRejection } from '../../domain/relay-state.ts';
import type { RelayerContext } from './context.ts';

/** Our nonce was spent by a transaction that is not ours. */
async function nonceTaken(ctx: RelayerContext, row: MetaTxRow): Promise<number> {
  if (row.kind === NONCE_FILLER_KIND) {
    // A filler only exists to spend the nonce; something else did.
    const done = await ctx.store.transition('Failed', [{ row, failureReason: `Nonce ${row.nonce} was spent by another transaction.` }]);
    ctx.counted('Failed', done.length);
    return done.length;
  }
  if (await ctx.store.resetForRepreparation(row.id, row.hash!)) {
    ctx.log.warn({ requestId: row.id, nonce: String(row.nonce), hash: row.hash }, 'nonce spent by another transaction; the request will be simulated again with a new nonce');
    return 1;
  }
  return 0;
}

/** What a refused broadcast means for its row: sent after all, or the number of rows it changed. */
async function refused(ctx: RelayerContext, row: MetaTxRow, err: unknown): Promise<'sent' | number> {
  const message = shortMessage(err);
  const kind = classifyBroadcastRejection(message);
  const logged = { requestId: row.id, nonce: String(row.nonce), hash: row.hash, rpc: message };
  if (kind === 'known') return 'sent';
  if (kind === 'nonceTooLow') return (await ctx.node.txKnown(row.hash as Hex)) ? 'sent' : nonceTaken(ctx, row);
  if (kind === 'insufficientFunds') ctx.log.error(logged, 'relayer account cannot pay for gas; requests stay queued until it is funded');
  else if (kind === 'conflict') ctx.log.warn(logged, 'another pending transaction holds this nonce; waiting');
  else {
    const attempts = (await ctx.store.recordRefusal(row.id, row.hash!)) ?? 0;
    ctx.log.warn({ ...logged, attempts }, 'node refused the transaction');
    if (attempts < ctx.maxBroadcastAttempts) return 0;
    const failed = await ctx.store.failAndFillNonce(row, `The chain node refused the transaction: ${message}`, await ctx.node.currentFees());
    if (failed) {
      await ctx.settled(failed);
      return 1;
    }
  }
  return 0;
}

export async function sendPass(ctx: RelayerContext): Promise<number> {
  const rows = await ctx.store.awaitingBroadcast(ctx.batchSize);
  if (rows.length === 0) return 0;
  const sent: string[] = [];
  let changed = 0;
  let down: ChainUnavailableError | undefined;
  const broadcast = () => ctx.node.broadcastInOrder(rows.map((r) => r.signedTx as Hex));
  const outcomes = await (ctx.tracer ? ctx.tracer.inRequestSpans('relayer.broadcast', rows, broadcast) : broadcast());
  for (const [i, row] of rows.entries()) {
    const outcome = outcomes[i]!;
    if (outcome.sent === 'untried') continue;
    if (outcome.sent === false && outcome.err instanceof ChainUnavailableError) down ??= outcome.err;
    else {
      const result = outcome.sent === true ? 'sent' : await refused(ctx, row, outcome.err);
      if (result === 'sent') sent.push(row.id);
      else changed += result;
    }
  }
  await ctx.afterStep?.('broadcast', sent);
  const submitted = await ctx.store.markSubmitted(sent);
  ctx.counted('Submitted', submitted);
  if (down) throw down;
  return changed + submitted;
}

/** A Submitted transaction without a receipt: make sure the node still has it. */
export async function keepBroadcast(ctx: RelayerContext, row: MetaTxRow): Promise<number> {
  const hash = row.hash as Hex;
  if (await ctx.node.txKnown(hash)) return 0;
  try {
    await ctx.node.sendRaw(row.signedTx as Hex);
    ctx.log.info({ requestId: row.id, hash }, 're-broadcast a transaction the node had dropped');
    return 0;
  } catch (err) {
    if (err instanceof ChainUnavailableError) throw err;
    const message = shortMessage(err);
    const kind = classifyBroadcastRejection(message);
    if (kind === 'known') return 0;
    if (kind === 'nonceTooLow') {
      // Mined between the two look-ups, or spent by someone else.
      if ((await ctx.node.txKnown(hash)) || (await ctx.node.receiptOf(hash))) return 0;
      return nonceTaken(ctx, row);
    }
    ctx.log.warn({ requestId: row.id, hash, rpc: message }, 'could not re-broadcast a dropped transaction');
    return 0;
  }
}
