// The relayer on a node that keeps no state for past blocks (any non-archive RPC node once a
// block is old enough, and anvil restored from its state file): anvil with --prune-history.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRelayer } from '../../src/chain/relayer.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, relayerContext, tickUntilSettled } from './relayer-helpers.ts';

describe('relayer on a node without past state', () => {
  let c: ChainFixture;
  let database: TestDatabase;

  before(async () => {
    [c, database] = await startChainAndDatabase({ anvilArgs: ['--prune-history'] });
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  it("gives the contract's reason for a transaction that reverted in a block whose state is gone", async () => {
    // Both simulate fine against the same state; the second to be mined hits the first's effect.
    // Blocks mined before the relayer reads the receipts take the state it would replay at away,
    // as a relayer that was down for a while meets it on a pruned node.
    const name = `Pruned ${Date.now()}`;
    const first = await enqueueMintManufacturer(database.db, c, name);
    const second = await enqueueMintManufacturer(database.db, c, name);
    const relayer = createRelayer({
      database,
      chain: relayerContext(c),
      afterStep: async (step) => {
        if (step === 'broadcast') await c.testClient.mine({ blocks: 3 });
      },
    });
    const [a, b] = await tickUntilSettled(relayer, database.db, [first.id, second.id]);
    assert.equal(a!.status, 'Confirmed');
    assert.equal(b!.status, 'Failed');
    await assert.rejects(c.publicClient.getBalance({ address: c.accounts.relayer.address, blockNumber: b!.blockNumber! - 1n }), /BlockOutOfRange/);
    assert.equal(b!.failureReason, `The name ${name} is already registered.`);
  });
});
