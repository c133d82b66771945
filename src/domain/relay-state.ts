// The transaction request state machine and the relayer's reading of what a node tells it.
// Pure: no I/O, so the rules can be read (and tested) in one place.
//
//   Unsubmitted ──broadcast──▶ Submitted ──receipt──▶ Mined ──depth──▶ Confirmed
//        ▲                        │  ▲                  │
//        └── nonce taken by ──────┘  └──── receipt gone (reorg) ┘
//            another transaction
//   Failed is reachable from every non-final state; a mined revert reaches it at Confirmed's depth.

export const TX_STATUSES = ['Unsubmitted', 'Submitted', 'Mined', 'Confirmed', 'Failed'] as const;
export type TxStatus = (typeof TX_STATUSES)[number];

export const FINAL_STATUSES: readonly TxStatus[] = ['Confirmed', 'Failed'];

/** Statuses that mean "still in progress": a second attempt at the same action is a 409. */
export const IN_FLIGHT = ['Unsubmitted', 'Submitted', 'Mined'] as const;

export const isInFlight = (status: string | null | undefined): boolean => status != null && (IN_FLIGHT as readonly string[]).includes(status);

/** For each target status, the statuses a request may move to it from. */
export const TRANSITIONS_TO: Readonly<Record<TxStatus, readonly TxStatus[]>> = {
  // Back to Unsubmitted only when the nonce was provably consumed by another transaction.
  Unsubmitted: ['Submitted'],
  // From Mined, Confirmed or Failed (a mined revert) when the transaction left the chain in a reorg.
  Submitted: ['Unsubmitted', 'Mined', 'Confirmed', 'Failed'],
  Mined: ['Submitted', 'Mined'],
  Confirmed: ['Submitted', 'Mined'],
  Failed: ['Unsubmitted', 'Submitted', 'Mined'],
};

export function canTransition(from: TxStatus, to: TxStatus): boolean {
  return TRANSITIONS_TO[to].includes(from);
}

export interface ReceiptView {
  status: 'success' | 'reverted';
  blockNumber: bigint;
}

/**
 * The newest block that counts as final when the chain's head is `head`: the one definition of
 * "confirmed" (CHAIN_CONFIRMATIONS) that the relayer (request → Confirmed) and the indexer (which
 * blocks it applies) share, so a Confirmed request's events are always ones the indexer may apply.
 * A block's depth is head − number + 1 — its own inclusion is the first confirmation, as viem's
 * and ethers' `confirmations` count — and it is final once its depth reaches `confirmations`;
 * 0 counts as 1: final once mined.
 */
export function finalThrough(head: bigint, confirmations: number): bigint {
  return head - BigInt(Math.max(1, confirmations)) + 1n;
}

/**
 * Status of a broadcast transaction given its receipt (null: not in a block) and the chain head.
 * A reverted receipt is final only at the same depth as a successful one: a reorg can drop its
 * block and the same bytes can then succeed elsewhere, and a request already Failed would have
 * freed its object for a second attempt, a second transaction for one action.
 */
export function trackedStatus(receipt: ReceiptView | null, head: bigint, confirmations: number): 'Submitted' | 'Mined' | 'Confirmed' | 'Failed' {
  if (!receipt) return 'Submitted';
  if (receipt.blockNumber > finalThrough(head, confirmations)) return 'Mined';
  return receipt.status === 'reverted' ? 'Failed' : 'Confirmed';
}

/**
 * What a node's rejection of eth_sendRawTransaction means. Clients word these differently
 * (geth, anvil, erigon, nethermind, besu), so the message is matched, not the code.
 * - known: the node already has exactly these bytes: as good as a successful send.
 * - nonceTooLow: the nonce is spent; by these bytes (look the hash up) or by another transaction.
 * - conflict: another pending transaction holds the nonce; wait for it to mine or drop.
 * - underpriced: the fee cap is below what the node accepts now; re-sign with current fees.
 * - insufficientFunds: the relayer needs gas money; keep the request queued.
 * - rejected: anything else (malformed, gas limit, …).
 */
export type BroadcastRejection = 'known' | 'nonceTooLow' | 'conflict' | 'underpriced' | 'insufficientFunds' | 'rejected';

export function classifyBroadcastRejection(message: string): BroadcastRejection {
  const m = message.toLowerCase();
  if (/already known|known transaction|already imported|already exists|alreadyknown|already in (the )?(mem)?pool/.test(m)) return 'known';
  if (/nonce too low|nonce has already been used|oldnonce|noncetoolow|nonce is too low/.test(m)) return 'nonceTooLow';
  if (/replacement transaction underpriced|replacement.*underpriced|could not replace existing tx/.test(m)) return 'conflict';
  if (/underpriced|less than (the )?block base fee|fee cap|feecap|fee too low|max fee per gas less than/.test(m)) return 'underpriced';
  if (/insufficient funds|insufficient balance/.test(m)) return 'insufficientFunds';
  return 'rejected';
}

/** Gas limit with a safety margin over the estimate (state can change between estimate and inclusion). */
export function gasWithMargin(estimate: bigint): bigint {
  return (estimate * 125n) / 100n + 10_000n;
}

/** Fee cap that survives a few blocks of base-fee growth (each block can raise it by 12.5%). */
export function feeCap(baseFeePerGas: bigint, priorityFeePerGas: bigint): bigint {
  return baseFeePerGas * 2n + priorityFeePerGas;
}
