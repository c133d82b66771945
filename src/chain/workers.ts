// The background workers that move the chain side along: the relayer (outbox → transactions) and
// the indexer (events → database). The HTTP service runs them in-process; `devices-api worker`
// runs only them. They coordinate through the database, so any number of replicas may run them.
// In-process, a request that settles wakes the indexer at once: its block is final (both follow
// finalThrough), so its events can be applied without waiting for the next poll.
import type { Registry } from 'prom-client';
import type { Database } from '../db/engine.ts';
import type { ChainContext } from './context.ts';
import { createRelayer, type Relayer, type RelayerLogger } from './relayer.ts';
import { createIndexer, type Indexer } from './indexer.ts';
import { createWorkerMonitor, type WorkerMonitor } from './worker-monitor.ts';
import type { WebhookConfig } from '../config.ts';
import { webhookWorkerFrom, type WebhookWorker } from '../webhooks/worker.ts';

export interface ChainWorkers {
  relayer: Relayer;
  indexer: Indexer;
  /** Their /ready checks and gauges. */
  monitor: WorkerMonitor;
  /** Webhook deliveries (when configured). */
  webhooks?: WebhookWorker;
  /** Stops every worker after its current tick; call before closing the database. */
  stop(): Promise<void>;
}

export interface ChainWorkerOptions {
  database: Database;
  chain: ChainContext;
  /** The API's public address (the views in webhook events). */
  publicBaseUrl: string;
  logger?: RelayerLogger;
  /** Where the relayer registers relayer_transactions_total (the app's /metrics registry). */
  metrics?: Registry;
  /** The indexer's poll for changes the relayer did not make (indexerPollMs of the chain config). */
  indexerPollMs?: number;
  /** /ready thresholds (worker-monitor.ts). */
  maxIndexerLagMs?: number;
  maxRelayAgeMs?: number;
  /** Runs the webhook delivery worker too (src/webhooks/worker.ts). */
  webhooks?: WebhookConfig;
}

/**
 * /ready's `relayer` and `indexer` checks for workers started later than the app is built (they
 * start last); "not started" until then.
 */
export function workerReadiness(workers: () => ChainWorkers | undefined): Record<'relayer' | 'indexer', () => Promise<string>> {
  const check = (name: 'relayer' | 'indexer') => async () => {
    const w = workers();
    if (!w) throw new Error(`${name} not started yet`);
    return w.monitor.checks[name]();
  };
  return { relayer: check('relayer'), indexer: check('indexer') };
}

export function startChainWorkers(o: ChainWorkerOptions): ChainWorkers {
  const indexer = createIndexer({ database: o.database, chain: o.chain, logger: o.logger, pollIntervalMs: o.indexerPollMs, publicBaseUrl: o.publicBaseUrl });
  const relayer = createRelayer({ database: o.database, chain: o.chain, logger: o.logger, metrics: o.metrics, onSettled: () => indexer.wake() });
  const monitor = createWorkerMonitor({
    database: o.database,
    chain: o.chain,
    relayer,
    indexer,
    metrics: o.metrics,
    maxIndexerLagMs: o.maxIndexerLagMs,
    maxRelayAgeMs: o.maxRelayAgeMs,
  });
  const webhooks = o.webhooks && webhookWorkerFrom(o.database, o.webhooks, o.logger);
  relayer.start();
  indexer.start();
  webhooks?.start();
  return {
    relayer,
    indexer,
    monitor,
    webhooks,
    stop: async () => {
      await Promise.all([relayer.stop(), indexer.stop(), webhooks?.stop()]);
    },
  };
}
