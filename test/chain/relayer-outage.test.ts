// The relayer's background loop across an RPC outage: it probes while the node is down and drains
// its queue within seconds of the node answering again, however long the outage lasted, and its
// log lines and health name the component that failed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRelayer } from '../../src/chain/relayer.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, relayerContext, rowOf, startRpcProxy } from './relayer-helpers.ts';
import { until } from '../helpers/eventually.ts';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const waitFor = (what: string, boundMs: number, check: () => Promise<boolean>) => until(what, check, boundMs);

describe('relayer outage', () => {
  let c: ChainFixture;
  let database: TestDatabase;

  before(async () => {
    [c, database] = await startChainAndDatabase();
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  it('drains its queue within seconds of the RPC coming back after a long outage, naming the chain in its log', async () => {
    const proxy = await startRpcProxy(c.anvil.rpcUrl);
    const lines: { level: string; obj: any; msg: string }[] = [];
    const logger = {
      info: (obj: object, msg: string) => lines.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj, msg }),
      error: (obj: object, msg: string) => lines.push({ level: 'error', obj, msg }),
    };
    // The default poll interval: an exponential back-off from it would be sleeping 8 s by now.
    const relayer = createRelayer({ database, chain: relayerContext(c, { rpcUrl: proxy.url }), logger, rpcBatchSize: 0 });
    try {
      proxy.setDown(true);
      relayer.start();
      const queued = await Promise.all([1, 2, 3].map((i) => enqueueMintManufacturer(database.db, c, `Outage drain ${i} ${Date.now()}`)));
      relayer.wake();
      await delay(7500);
      assert.equal((await rowOf(database.db, queued[0]!.id)).status, 'Unsubmitted');
      const health = relayer.health();
      assert.equal(health.lastFailure?.component, 'chain');
      assert.ok(health.failingSince !== null);
      const down = lines.filter((l) => /unavailable/.test(l.msg));
      assert.equal(down.length, 1, 'one log line per outage');
      assert.match(down[0]!.msg, /^relayer: tick failed \(chain RPC unavailable\)/);
      assert.equal(down[0]!.obj.component, 'chain');

      proxy.setDown(false);
      await waitFor('every request Confirmed after the RPC came back', 4000, async () =>
        (await Promise.all(queued.map((q) => rowOf(database.db, q.id)))).every((r) => r.status === 'Confirmed'),
      );
      assert.equal(relayer.health().failingSince, null);
      assert.ok(lines.some((l) => l.msg === 'relayer: ticks succeed again' && l.obj.component === 'chain'));
    } finally {
      await relayer.stop();
      await proxy.close();
    }
  });
});
