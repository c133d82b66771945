// The workers as an operator sees them: /ready's `relayer` and `indexer` checks and the matching
// Prometheus gauges, from one sample (cached for a second, so a probe and a scrape share it).
//
// Liveness comes from the loops themselves (worker-health.ts). The figures come from the
// database and the chain, not from the worker's memory, so a worker stuck inside a tick (a lock
// it waits on, a hung call) cannot report itself fine: the indexer's lag is the stored cursor
// against the chain's final head, in blocks and in seconds (how long the oldest final block not
// yet indexed has been final); the relayer's queue is its unsettled rows.
import { and, count, eq, inArray, min, ne } from 'drizzle-orm';
import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../db/engine.ts';
import { metaTransactionRequests as mtr, relayerAccounts } from '../db/schema.ts';
import { finalThrough } from '../domain/relay-state.ts';
import type { ChainContext } from './context.ts';
import { readCursor } from './indexer-store.ts';
import { NONCE_FILLER_KIND } from './relayer-store.ts';
import { shortMessage } from './errors.ts';
import { workerProblem, type WorkerHealthSnapshot } from './worker-health.ts';

export interface MonitoredWorker {
  health(): WorkerHealthSnapshot;
}

export interface WorkerMonitorOptions {
  database: Database;
  chain: ChainContext;
  relayer: MonitoredWorker;
  indexer: MonitoredWorker;
  /** /ready fails once the indexer is this far behind the final head (READY_MAX_INDEXER_LAG, default 30 s). */
  maxIndexerLagMs?: number;
  /** /ready fails once a relayed request has waited this long to settle (READY_MAX_RELAY_AGE, default 300 s). */
  maxRelayAgeMs?: number;
  /** Gauges are registered here when given. */
  metrics?: Registry;
  now?: () => number;
}

export interface IndexerLag {
  head: bigint;
  cursor: bigint;
  blocks: bigint;
  seconds: number;
}

export interface RelayQueue {
  /** Unsettled requests (Unsubmitted, Submitted, Mined), fillers excluded. */
  depth: number;
  /** Age of the oldest one, 0 when there is none. */
  oldestSeconds: number;
}

export interface RelayerAccountState {
  /** The next nonce the relayer will hand out (stored), and the chain's count of mined ones. */
  nextNonce: bigint | null;
  chainNonce: bigint;
  balanceWei: bigint;
}

type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface WorkerSample {
  at: number;
  lag: Part<IndexerLag>;
  queue: Part<RelayQueue>;
  account: Part<RelayerAccountState>;
}

export interface WorkerMonitor {
  sample(): Promise<WorkerSample>;
  /** Readiness checks: resolve to a one-line summary, reject with the reason the worker is not ready. */
  checks: { relayer: () => Promise<string>; indexer: () => Promise<string> };
}

const SAMPLE_TTL_MS = 1000;

async function part<T>(f: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: shortMessage(err).slice(0, 200) };
  }
}

export function createWorkerMonitor(o: WorkerMonitorOptions): WorkerMonitor {
  const { chain, database } = o;
  const pc = chain.publicClient;
  const now = o.now ?? Date.now;
  const maxIndexerLagMs = o.maxIndexerLagMs ?? 30_000;
  const maxRelayAgeMs = o.maxRelayAgeMs ?? 300_000;
  const relayer = chain.relayerAddress.toLowerCase();
  const unsettled = and(inArray(mtr.status, ['Unsubmitted', 'Submitted', 'Mined']), ne(mtr.kind, NONCE_FILLER_KIND));

  async function indexerLag(): Promise<IndexerLag> {
    const [stored, head] = await Promise.all([readCursor(database.db), pc.getBlockNumber({ cacheTime: 0 })]);
    const cursor = stored?.blockNumber ?? chain.deployment.deployBlock - 1n;
    const safe = finalThrough(head, chain.confirmations);
    if (cursor >= safe) return { head, cursor, blocks: 0n, seconds: 0 };
    // Block cursor+1 became final when block cursor+max(1, confirmations) was mined.
    const finalAt = await pc.getBlock({ blockNumber: cursor + BigInt(Math.max(1, chain.confirmations)) });
    const seconds = Math.max(0, now() / 1000 - Number(finalAt.timestamp));
    return { head, cursor, blocks: safe - cursor, seconds };
  }

  async function relayQueue(): Promise<RelayQueue> {
    const [row] = await database.db.select({ n: count(), oldest: min(mtr.createdAt) }).from(mtr).where(unsettled);
    const oldest = row?.oldest ? new Date(row.oldest).getTime() : null;
    return { depth: Number(row?.n ?? 0), oldestSeconds: oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000) };
  }

  async function account(): Promise<RelayerAccountState> {
    const [[stored], chainNonce, balanceWei] = await Promise.all([
      database.db.select({ next: relayerAccounts.nextNonce }).from(relayerAccounts).where(eq(relayerAccounts.address, relayer)),
      pc.getTransactionCount({ address: chain.relayerAddress, blockTag: 'latest' }),
      pc.getBalance({ address: chain.relayerAddress }),
    ]);
    return { nextNonce: stored?.next ?? null, chainNonce: BigInt(chainNonce), balanceWei };
  }

  let cached: { at: number; value: Promise<WorkerSample> } | null = null;
  function sample(): Promise<WorkerSample> {
    const t = now();
    if (cached && t - cached.at < SAMPLE_TTL_MS) return cached.value;
    const value = Promise.all([part(indexerLag), part(relayQueue), part(account)]).then(([lag, queue, acct]) => ({ at: now(), lag, queue, account: acct }));
    cached = { at: t, value };
    // A sample that hangs (a frozen node) is kept until it settles, then aged out from then.
    void value.finally(() => {
      if (cached?.value === value) cached = { at: now(), value };
    });
    return value;
  }

  const secs = (n: number) => `${Math.round(n)} s`;
  const assertRunning = (name: 'relayer' | 'indexer', health: WorkerHealthSnapshot) => {
    const problem = workerProblem(name, health, { now: now() });
    if (problem) throw new Error(problem);
  };
  const known = <T>(part: Part<T>, what: string): T => {
    if (!part.ok) throw new Error(`${what} unknown: ${part.error}`);
    return part.value;
  };

  const checks = {
    async relayer(): Promise<string> {
      assertRunning('relayer', o.relayer.health());
      const { depth, oldestSeconds } = known((await sample()).queue, 'relayer queue');
      if (oldestSeconds * 1000 > maxRelayAgeMs) {
        throw new Error(`relayer: the oldest of ${depth} unsettled requests has waited ${secs(oldestSeconds)} (limit ${secs(maxRelayAgeMs / 1000)})`);
      }
      return `${depth} unsettled, oldest ${secs(oldestSeconds)}`;
    },
    async indexer(): Promise<string> {
      assertRunning('indexer', o.indexer.health());
      const { blocks, seconds } = known((await sample()).lag, 'indexer lag');
      if (seconds * 1000 > maxIndexerLagMs) {
        throw new Error(`indexer lags ${blocks} final blocks, ${secs(seconds)} behind the chain (limit ${secs(maxIndexerLagMs / 1000)})`);
      }
      return `lag ${blocks} blocks, ${secs(seconds)}`;
    },
  };

  if (o.metrics) registerGauges(o.metrics, sample, { relayer: o.relayer, indexer: o.indexer }, now);
  return { sample, checks };
}

function registerGauges(registry: Registry, sample: () => Promise<WorkerSample>, workers: Record<'relayer' | 'indexer', MonitoredWorker>, now: () => number): void {
  // Registered once per registry (a test may build the workers twice on one app).
  if (registry.getSingleMetric('worker_up')) return;
  const gauge = (name: string, help: string, set: (g: Gauge, s: WorkerSample) => void) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.reset();
        set(this, await sample());
      },
    });
  const perWorker = (name: string, help: string, value: (h: WorkerHealthSnapshot) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [w, worker] of Object.entries(workers)) {
          const v = value(worker.health());
          if (v !== null) this.set({ worker: w }, v);
        }
      },
    });
  perWorker('worker_up', '1 while the worker runs and is neither stuck nor failing repeatedly', (h) => (workerProblem('', h, { now: now() }) === null ? 1 : 0));
  perWorker('worker_consecutive_failures', 'Ticks failed in a row (0 after a good tick)', (h) => h.consecutiveFailures);
  perWorker('worker_last_success_timestamp_seconds', 'When the last tick succeeded', (h) => (h.lastSuccessAt === null ? null : h.lastSuccessAt / 1000));
  gauge('indexer_head_lag_blocks', 'Final blocks the indexer has not applied yet', (g, s) => s.lag.ok && g.set(Number(s.lag.value.blocks)));
  gauge('indexer_head_lag_seconds', 'How long the oldest final block not yet applied has been final', (g, s) => s.lag.ok && g.set(s.lag.value.seconds));
  gauge('relayer_queue_depth', 'Relayed requests not yet settled (Unsubmitted, Submitted, Mined)', (g, s) => s.queue.ok && g.set(s.queue.value.depth));
  gauge('relayer_oldest_unsettled_seconds', 'Age of the oldest relayed request not yet settled', (g, s) => s.queue.ok && g.set(s.queue.value.oldestSeconds));
  gauge('relayer_next_nonce', 'The next nonce the relayer will hand out', (g, s) => s.account.ok && s.account.value.nextNonce !== null && g.set(Number(s.account.value.nextNonce)));
  gauge('relayer_chain_nonce', "The relayer account's transaction count at the latest block", (g, s) => s.account.ok && g.set(Number(s.account.value.chainNonce)));
  gauge('relayer_balance_ether', 'Balance of the relayer account, which pays for gas', (g, s) => s.account.ok && g.set(Number(s.account.value.balanceWei) / 1e18));
}
