import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mintStatus } from '../../src/services/user-device-view.ts';

describe('the mint status shown with a vehicle or synthetic device', () => {
  it('is Confirmed once the indexer has set the token id, while the relayer still records the transaction in flight', () => {
    for (const recorded of ['Unsubmitted', 'Submitted', 'Mined', 'Confirmed', undefined]) assert.equal(mintStatus(recorded, true), 'Confirmed');
  });

  it('is the recorded status before the token id is set, and a recorded failure stays one', () => {
    for (const recorded of ['Unsubmitted', 'Submitted', 'Mined', 'Failed'] as const) assert.equal(mintStatus(recorded, false), recorded);
    assert.equal(mintStatus('Failed', true), 'Failed');
    assert.equal(mintStatus(undefined, false), null);
  });
});
