// /ready's view of the chain workers: the indexer's lag behind the final head and the relayer's
// queue, measured from the database and the chain; a stuck or repeatedly failing worker; the same
// figures as gauges; failures attributed to the component that failed; and an indexer that cannot
// take the cursor's lock fails its tick instead of hanging.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { createPublicClient, http as viemHttp } from 'viem';
import { Registry } from 'prom-client';
import { createIndexer } from '../../src/chain/indexer.ts';
import { isRpcUnavailable } from '../../src/chain/errors.ts';
import { createWorkerMonitor } from '../../src/chain/worker-monitor.ts';
import { classifyFailure, createWorkerHealth, failureMessage, type WorkerHealthSnapshot } from '../../src/chain/worker-health.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { enqueueMintManufacturer, relayerContext } from './relayer-helpers.ts';

const healthy = (): WorkerHealthSnapshot => ({ running: true, tickStartedAt: null, lastSuccessAt: Date.now(), failingSince: null, consecutiveFailures: 0, lastFailure: null });

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('failure attribution', () => {
  it('names the database, not the chain RPC, when PostgreSQL refuses connections', async () => {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x`, connectionTimeoutMillis: 2000 });
    const err = await client.connect().then(
      () => assert.fail('connected to a closed port'),
      (e: unknown) => e,
    );
    // The old rule: any ECONNREFUSED meant "chain RPC unavailable".
    assert.equal(isRpcUnavailable(err), true);
    assert.deepEqual(classifyFailure(err), { component: 'database', unavailable: true });
  });

  it('names the chain RPC when the node refuses connections', async () => {
    const pc = createPublicClient({ transport: viemHttp(`http://127.0.0.1:${await closedPort()}`, { retryCount: 0 }) });
    const err = await pc.getBlockNumber().then(
      () => assert.fail('answered from a closed port'),
      (e: unknown) => e,
    );
    assert.deepEqual(classifyFailure(err), { component: 'chain', unavailable: true });
  });
});

describe('worker monitor', () => {
  let c: ChainFixture;
  let database: TestDatabase;

  before(async () => {
    [c, database] = await startChainAndDatabase();
  });
  after(async () => {
    await Promise.all([c?.stop(), database?.destroy()]);
  });

  it('reports the indexer lag in blocks and seconds and fails /ready past the limit', async () => {
    const chain = relayerContext(c);
    const indexer = createIndexer({ database, chain, publicBaseUrl: 'http://localhost:8080' });
    for (let i = 0; i < 20 && !(await indexer.tick()).caughtUp; i++);
    let clock = Date.now();
    const monitor = createWorkerMonitor({ database, chain, relayer: { health: healthy }, indexer: { health: healthy }, maxIndexerLagMs: 30_000, now: () => clock });
    assert.equal(await monitor.checks.indexer(), 'lag 0 blocks, 0 s');

    await c.testClient.mine({ blocks: 3 });
    clock += 5_000;
    assert.match(await monitor.checks.indexer(), /^lag 3 blocks, \d+ s$/);
    // The indexer does not move while the chain's final blocks age past the limit.
    clock += 60_000;
    await assert.rejects(monitor.checks.indexer(), /indexer lags 3 final blocks, \d+ s behind the chain \(limit 30 s\)/);

    await indexer.tick();
    clock += 2_000;
    assert.equal(await monitor.checks.indexer(), 'lag 0 blocks, 0 s');
  });

  it('fails /ready for a stuck worker, a repeating tick error, or a request waiting too long, naming why', async () => {
    const chain = relayerContext(c);
    let clock = Date.now();
    const relayerHealth = createWorkerHealth(() => clock);
    relayerHealth.setRunning(true);
    const monitor = createWorkerMonitor({ database, chain, relayer: { health: () => relayerHealth.snapshot() }, indexer: { health: healthy }, maxRelayAgeMs: 300_000, now: () => clock });
    assert.match(await monitor.checks.relayer(), /^0 unsettled, oldest 0 s$/);

    relayerHealth.tickStarted();
    clock += 61_000;
    await assert.rejects(monitor.checks.relayer(), /relayer is stuck: its tick has been running for 61 s/);

    const dbDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 3; i++) relayerHealth.tickFailed(dbDown);
    await assert.rejects(monitor.checks.relayer(), /relayer: ticks failing for \d+ s \(3 in a row\), database unavailable: connect ECONNREFUSED/);
    relayerHealth.tickSucceeded();

    await enqueueMintManufacturer(database.db, c, `Waiting ${Date.now()}`);
    clock += 2_000;
    assert.match(await monitor.checks.relayer(), /^1 unsettled, oldest \d+ s$/);
    clock += 400_000;
    await assert.rejects(monitor.checks.relayer(), /the oldest of 1 unsettled requests has waited \d+ s \(limit 300 s\)/);
  });

  it('exports the same figures as Prometheus gauges', async () => {
    const metrics = new Registry();
    const chain = relayerContext(c);
    createWorkerMonitor({ database, chain, relayer: { health: healthy }, indexer: { health: () => ({ ...healthy(), running: false }) }, metrics });
    const text = await metrics.metrics();
    assert.match(text, /^worker_up\{worker="relayer"\} 1$/m);
    assert.match(text, /^worker_up\{worker="indexer"\} 0$/m);
    assert.match(text, /^indexer_head_lag_blocks \d+$/m);
    assert.match(text, /^indexer_head_lag_seconds [\d.e+-]+$/m);
    assert.match(text, /^relayer_queue_depth 1$/m);
    assert.match(text, /^relayer_oldest_unsettled_seconds [\d.e+-]+$/m);
    assert.match(text, /^relayer_chain_nonce \d+$/m);
    assert.match(text, /^relayer_balance_ether [\d.e+-]+$/m);
  });

  it('fails an indexer tick that cannot take the cursor lock instead of hanging, naming the database', { skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL (DATABASE_URL)' }, async () => {
    const chain = relayerContext(c);
    const indexer = createIndexer({ database, chain, publicBaseUrl: 'http://localhost:8080' });
    for (let i = 0; i < 20 && !(await indexer.tick()).caughtUp; i++);
    await c.testClient.mine({ blocks: 1 });
    const locker = new pg.Client({ connectionString: database.url! });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table chain_cursor in exclusive mode');
      const started = Date.now();
      const err = await Promise.race([
        indexer.tick().then(
          () => assert.fail('the tick went through a locked cursor'),
          (e: unknown) => e,
        ),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the tick still hangs after 30 s')), 30_000)),
      ]);
      assert.equal(classifyFailure(err).component, 'database');
      assert.equal(failureMessage(err), 'canceling statement due to lock timeout');
      assert.ok(Date.now() - started >= 1000);
      await locker.query('rollback');
      assert.equal((await indexer.tick()).caughtUp, true);
    } finally {
      await locker.end();
    }
  });
});
