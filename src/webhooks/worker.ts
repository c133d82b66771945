// The webhook delivery worker: runs beside the relayer and indexer on every replica. Each tick
// claims a batch of due deliveries (delivery-store.ts: SKIP LOCKED + lease, so replicas share the
// queue without sending one twice), sends them concurrently, and records each answer: a 2xx is
// delivered; anything else is retried on the schedule (retry-schedule.ts) with the same
// webhook-id, and a subscription failing for WEBHOOK_DISABLE_AFTER is disabled.
// Wakes on the fan-out's NOTIFY (committed events reach the receiver in milliseconds) and polls
// every `pollMs` for retries that come due and for notifications missed while not listening.
import type { Database } from '../db/engine.ts';
import { retryDelayMs } from '../domain/retry-schedule.ts';
import { webhookHeaders } from '../domain/webhook-signature.ts';
import { createWakeableSleep } from '../chain/wakeable-sleep.ts';
import { createWorkerHealth, describeFailure, failureMessage, waitAfterFailure, type WorkerHealthSnapshot } from '../chain/worker-health.ts';
import { claimDue, recordDelivered, recordFailed, type ClaimedDelivery } from './delivery-store.ts';
import { DELIVERY_CHANNEL } from './fan-out.ts';
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

export interface WebhookWorker {
  start(): void;
  stop(): Promise<void>;
  /** One claim-and-send pass; resolves to the number of deliveries attempted. */
  tick(): Promise<number>;
  wake(): void;
  health(): WorkerHealthSnapshot;
}

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
  const { sleep, wake } = createWakeableSleep();
  const health = createWorkerHealth();
  let stopping = false;
  let running: Promise<void> | null = null;
  let listener: { close(): Promise<void> } | null = null;

  // What the pass after this one may find: a retry due soon, or (after a success) the next event
  // about the same resource, due already. The loop sleeps no longer than that.
  let soonest = Infinity;

  async function attempt(d: ClaimedDelivery): Promise<void> {
    const body = deliveryBody(d);
    const result: AttemptResult = await o.sender.send(d.url, webhookHeaders(d.secret, d.eventId, now(), body), body);
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

  async function loop(): Promise<void> {
    let backoff = pollMs;
    while (!stopping) {
      health.tickStarted();
      let pause = pollMs;
      try {
        soonest = Infinity;
        const n = await tick();
        const was = health.snapshot().lastFailure;
        health.tickSucceeded();
        if (was) log.info({ component: was.component }, 'webhooks: ticks succeed again');
        backoff = pollMs;
        pause = n === batchSize ? 0 : Math.min(pollMs, soonest);
      } catch (err) {
        const kind = health.tickFailed(err);
        if (kind.first || !kind.unavailable) log.error({ component: kind.component, err: failureMessage(err) }, `webhooks: tick failed (${describeFailure(kind)}); retrying`);
        if (stopping) break;
        backoff = Math.min(backoff * 2, 30_000);
        await waitAfterFailure({ kind, backoffMs: backoff, probeIntervalMs: 1000, sleep, stopped: () => stopping, probe: () => o.database.ping() });
        continue;
      }
      if (!stopping && pause > 0) await sleep(pause);
    }
  }

  async function listen(): Promise<void> {
    // A notification means a delivery was committed; a listener that reconnects may have missed some.
    listener = await o.database.listen(DELIVERY_CHANNEL, { onNotify: () => wake(), onLive: (live) => live && wake() }).catch((err: unknown) => {
      log.warn({ err: failureMessage(err) }, `webhooks: cannot LISTEN; deliveries start within ${pollMs} ms instead`);
      return null;
    });
  }

  return {
    start() {
      if (running) return;
      stopping = false;
      health.setRunning(true);
      running = listen()
        .then(loop)
        .finally(async () => {
          running = null;
          health.setRunning(false);
          await listener?.close();
          listener = null;
        });
    },
    async stop() {
      stopping = true;
      wake();
      await running;
    },
    tick,
    wake,
    health: () => health.snapshot(),
  };
}

/** The worker as configured (WEBHOOK_*), with its own sender. */
export function webhookWorkerFrom(database: Database, config: WebhookConfig, logger?: WebhookWorkerLogger): WebhookWorker {
  const sender = createWebhookSender({ policy: config });
  const worker = createWebhookWorker({ database, sender, retrySchedule: config.retrySchedule, disableAfterMs: config.disableAfterMs, pollIntervalMs: config.pollIntervalMs, logger });
  return { ...worker, stop: () => worker.stop().finally(() => sender.close()) };
}
