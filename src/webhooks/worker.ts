// The webhook delivery worker: runs beside the relayer and indexer on every replica. Each tick
// claims a batch of due deliveries (delivery-store.ts: SKIP LOCKED + lease, so replicas share the
// queue without sending one twice), sends them concurrently, and records each answer: a 2xx is
// delivered; anything else is retried on the schedule (retry-schedule.ts) with the same
// webhook-id, and a subscription failing for WEBHOOK_DISABLE_AFTER is disabled.
// Wakes when a commit created deliveries (EVENTS_CHANNEL with DELIVERIES_CREATED: they reach the
// receiver in milliseconds) and polls
// every `pollMs` for retries that come due and for notifications missed while not listening.
import type { Database } from '../db/engine.ts';
import { retryDelayMs } from '../domain/retry-schedule.ts';
import { webhookHeaders } from '../domain/webhook-signature.ts';
import { describeFailure, failureMessage } from '../chain/worker-health.ts';
import { createWorkerLoop, type BackgroundWorker } from '../chain/worker-loop.ts';
import { claimDue, recordDelivered, recordFailed, type ClaimedDelivery } from './delivery-store.ts';
import { DELIVERIES_CREATED, EVENTS_CHANNEL } from '../events/outbox.ts';
import { createWebhookSender, type AttemptResult, type WebhookSender } from './send.ts';
import type { WebhookConfig } from '../config.ts';

export interface WebhookWorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebhookWorkerOptions {
  database: Database;
  sender: WebhookSender;
  /** Delays between attempts (WEBHOOK_RETRY_SCHEDULE). */
  retrySchedule: readonly number[];
  /** A subscription failing this long is disabled (WEBHOOK_DISABLE_AFTER, default 3 days). */
  disableAfterMs: number;
  logger?: WebhookWorkerLogger;
  /** Poll for due retries (default 1 s). */
  pollIntervalMs?: number;
  /** Deliveries claimed (and sent at once) per tick (default 50). */
  batchSize?: number;
  /** How long a claim holds: longer than an attempt's time-out (default 30 s). */
  leaseMs?: number;
  /** Test seam: the clock the schedule and the disabling follow. */
  now?: () => Date;
  random?: () => number;
}

/** tick(): one claim-and-send pass, resolving to the number of deliveries attempted. */
export type WebhookWorker = BackgroundWorker;

const NOOP: WebhookWorkerLogger = { info() {}, warn() {}, error() {} };

/** The delivered body: Standard Webhooks' {type, timestamp, data}, from the event row. */
export function deliveryBody(d: Pick<ClaimedDelivery, 'type' | 'eventCreatedAt' | 'data'>): string {
  return JSON.stringify({ type: d.type, timestamp: d.eventCreatedAt.toISOString(), data: d.data });
}

export function createWebhookWorker(o: WebhookWorkerOptions): WebhookWorker {
  const log = o.logger ?? NOOP;
  const now = o.now ?? (() => new Date());
  const random = o.random ?? Math.random;
  const pollMs = o.pollIntervalMs ?? 1000;
  const batchSize = o.batchSize ?? 50;
  const leaseMs = o.leaseMs ?? 30_000;
  let listening: Promise<void> | null = null;
  let listener: { close(): Promise<void> } | null = null;

  // What the pass after this one may find: a retry due soon, or (after a success) the next event
  // about the same resource, due already. The loop sleeps no longer than that.
  let soonest = Infinity;

  async function attempt(d: ClaimedDelivery): Promise<void> {
    const body = deliveryBody(d);
    const result: AttemptResult = await o.sender.send(d.url, webhookHeaders(d.secrets, d.eventId, now(), body), body);
    if (result.ok) {
      soonest = 0;
      return recordDelivered(o.database.db, d, result.statusCode!);
    }
    const at = now();
    const delay = retryDelayMs(o.retrySchedule, d.attempts, random());
    if (delay !== null) soonest = Math.min(soonest, delay);
    const disabled = await recordFailed(o.database.db, d, {
      statusCode: result.statusCode,
      error: result.error ?? 'failed',
      now: at,
      retryAt: delay === null ? null : new Date(at.getTime() + delay),
      disableAfterMs: o.disableAfterMs,
    });
    if (disabled) log.warn({ subscriptionId: d.subscriptionId }, `webhooks: subscription disabled: ${disabled}`);
  }

  async function tick(): Promise<number> {
    const t = now();
    const claimed = await claimDue(o.database.db, { now: t, leaseUntil: new Date(t.getTime() + leaseMs), limit: batchSize });
    await Promise.all(claimed.map(attempt));
    return claimed.length;
  }

  const loop = createWorkerLoop({
    tick: () => {
      soonest = Infinity;
      return tick();
    },
    pauseAfter: (n) => (n === batchSize ? 0 : Math.min(pollMs, soonest)),
    minBackoffMs: pollMs,
    maxBackoffMs: 30_000,
    probeIntervalMs: 1000,
    probe: () => o.database.ping(),
    onRecovered: (was) => log.info({ component: was.lastFailure!.component }, 'webhooks: ticks succeed again'),
    onFailed(err, kind) {
      if (kind.first || !kind.unavailable) log.error({ component: kind.component, err: failureMessage(err) }, `webhooks: tick failed (${describeFailure(kind)}); retrying`);
    },
  });

  async function listen(): Promise<void> {
    // That notification means deliveries (new, or sent again) were committed; a listener that
    // reconnects may have missed some (and one that goes live wakes the loop, so ticks that ran
    // before it missed nothing).
    const handlers = { onNotify: (payload: string) => payload === DELIVERIES_CREATED && loop.wake(), onLive: (live: boolean) => live && loop.wake() };
    listener = await o.database.listen(EVENTS_CHANNEL, handlers).catch((err: unknown) => {
      log.warn({ err: failureMessage(err) }, `webhooks: cannot LISTEN; deliveries start within ${pollMs} ms instead`);
      return null;
    });
  }

  return {
    start() {
      if (listening) return;
      loop.start();
      listening = listen();
    },
    async stop() {
      await loop.stop();
      await listening;
      listening = null;
      await listener?.close();
      listener = null;
    },
    tick,
    wake: loop.wake,
    health: loop.health,
  };
}

/** The worker as configured (WEBHOOK_*), with its own sender. */
export function webhookWorkerFrom(database: Database, config: WebhookConfig, logger?: WebhookWorkerLogger): WebhookWorker {
  const sender = createWebhookSender({ policy: config });
  const worker = createWebhookWorker({ database, sender, retrySchedule: config.retrySchedule, disableAfterMs: config.disableAfterMs, pollIntervalMs: config.pollIntervalMs, logger });
  return { ...worker, stop: () => worker.stop().finally(() => sender.close()) };
}
