import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { canTransition, classifyBroadcastRejection, feeCap, finalThrough, gasWithMargin, trackedStatus, TX_STATUSES } from '../../src/domain/relay-state.ts';

describe('transaction request states', () => {
  it('reaches Failed from every non-final state and leaves a final state only back to Submitted (a reorg removed its transaction)', () => {
    for (const s of TX_STATUSES) {
      assert.equal(canTransition(s, 'Failed'), s !== 'Confirmed' && s !== 'Failed', s);
      if (s === 'Confirmed' || s === 'Failed') for (const to of TX_STATUSES) assert.equal(canTransition(s, to), to === 'Submitted', `${s} → ${to}`);
    }
  });

  it('moves forward Unsubmitted → Submitted → Mined → Confirmed, and back only on a spent nonce or a reorg', () => {
    assert.ok(canTransition('Unsubmitted', 'Submitted'));
    assert.ok(canTransition('Submitted', 'Mined'));
    assert.ok(canTransition('Mined', 'Confirmed'));
    assert.ok(canTransition('Submitted', 'Unsubmitted'));
    assert.ok(canTransition('Mined', 'Submitted'));
    assert.ok(!canTransition('Unsubmitted', 'Confirmed'));
    assert.ok(!canTransition('Unsubmitted', 'Mined'));
    assert.ok(!canTransition('Mined', 'Unsubmitted'));
  });

  it('counts the including block as the first confirmation', () => {
    assert.equal(trackedStatus(null, 10n, 1), 'Submitted');
    assert.equal(trackedStatus({ status: 'success', blockNumber: 10n }, 10n, 1), 'Confirmed');
    assert.equal(trackedStatus({ status: 'success', blockNumber: 10n }, 10n, 0), 'Confirmed');
    assert.equal(trackedStatus({ status: 'success', blockNumber: 10n }, 11n, 3), 'Mined');
    assert.equal(trackedStatus({ status: 'success', blockNumber: 10n }, 12n, 3), 'Confirmed');
  });

  it('fails a reverted transaction only at the depth that would confirm a successful one (a reorg may still drop its block)', () => {
    assert.equal(trackedStatus({ status: 'reverted', blockNumber: 10n }, 10n, 3), 'Mined');
    assert.equal(trackedStatus({ status: 'reverted', blockNumber: 10n }, 11n, 3), 'Mined');
    assert.equal(trackedStatus({ status: 'reverted', blockNumber: 10n }, 12n, 3), 'Failed');
    assert.equal(trackedStatus({ status: 'reverted', blockNumber: 10n }, 10n, 1), 'Failed');
  });

  it('has one definition of final blocks for the relayer and the indexer: depth ≥ confirmations, 0 as 1', () => {
    assert.equal(finalThrough(10n, 0), 10n);
    assert.equal(finalThrough(10n, 1), 10n);
    assert.equal(finalThrough(10n, 12), -1n);
    assert.equal(finalThrough(20n, 12), 9n);
    for (const confirmations of [3, 12]) {
      const last = finalThrough(20n, confirmations);
      assert.equal(trackedStatus({ status: 'success', blockNumber: last }, 20n, confirmations), 'Confirmed');
      assert.equal(trackedStatus({ status: 'success', blockNumber: last + 1n }, 20n, confirmations), 'Mined');
    }
  });

  it('reads node rejections as different clients word them', () => {
    const cases: [string, ReturnType<typeof classifyBroadcastRejection>][] = [
      ['already known', 'known'],
      ['Known transaction: 0xabc', 'known'],
      ['ALREADY_EXISTS: already known', 'known'],
      ['nonce too low', 'nonceTooLow'],
      ['nonce too low: next nonce 5, tx nonce 4', 'nonceTooLow'],
      ['OldNonce', 'nonceTooLow'],
      ['replacement transaction underpriced', 'conflict'],
      ['transaction underpriced', 'underpriced'],
      ['max fee per gas less than block base fee', 'underpriced'],
      ['insufficient funds for gas * price + value', 'insufficientFunds'],
      ['exceeds block gas limit', 'rejected'],
      ['intrinsic gas too low', 'rejected'],
    ];
    for (const [message, kind] of cases) assert.equal(classifyBroadcastRejection(message), kind, message);
  });

  it('adds head-room to gas and fees', () => {
    assert.equal(gasWithMargin(100_000n), 135_000n);
    assert.equal(feeCap(10n, 2n), 22n);
  });
});
