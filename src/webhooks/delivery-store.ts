// The delivery worker's queries. Claiming is one statement: due deliveries are locked with
// FOR UPDATE SKIP LOCKED (replicas never claim the same row) and leased (next_attempt_at moves
// past the attempt's time-out), so a worker that dies mid-attempt leaves the delivery due again
// once the lease ends. Results are written only while the claim is still ours (same attempt count).
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/engine.ts';
import { DELIVERIES_CREATED, EVENTS_CHANNEL } from '../events/outbox.ts';

export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  /** Attempts including this one. */
  attempts: number;
  url: string;
  /** The current secret first, then a rotated-out one still within its overlap. */
  secrets: string[];
  eventId: string;
  type: string;
  data: Record<string, unknown>;
  eventCreatedAt: Date;
}

const iso = (d: Date) => d.toISOString();

/**
 * Up to `limit` due deliveries of enabled subscriptions, oldest due first, leased until
 * `leaseUntil`. A delivery waits while an earlier event about the same resource is still pending
 * for its subscription, so one resource's events arrive in order.
 */
export async function claimDue(db: Db, o: { now: Date; leaseUntil: Date; limit: number }): Promise<ClaimedDelivery[]> {
  const r = await db.execute(sql`
    with due as (
      select d.id from webhook_deliveries d
      join webhook_subscriptions s on s.id = d.subscription_id
      where d.status = 'pending' and d.next_attempt_at <= ${iso(o.now)} and s.disabled_at is null
        and not exists (
          select 1 from webhook_deliveries p
          where p.subscription_id = d.subscription_id and p.resource = d.resource and p.status = 'pending' and p.event_seq < d.event_seq)
      order by d.next_attempt_at, d.event_seq
      limit ${o.limit}
      for update of d skip locked
    )
    update webhook_deliveries w
    set next_attempt_at = ${iso(o.leaseUntil)}, attempts = w.attempts + 1, last_attempt_at = ${iso(o.now)}
    from due, webhook_subscriptions s, events e
    where w.id = due.id and s.id = w.subscription_id and e.seq = w.event_seq
    returning w.id, w.subscription_id, w.attempts, s.url, s.secret,
      case when s.previous_secret_until > ${iso(o.now)} then s.previous_secret end as previous_secret,
      e.id as event_id, e.type, e.data, e.created_at`);
  const claimed = rowsOf<{
    id: string;
    subscription_id: string;
    attempts: number | string;
    url: string;
    secret: string;
    previous_secret: string | null;
    event_id: string;
    type: string;
    data: string | Record<string, unknown>;
    created_at: string | Date;
  }>(r);
  return claimed.map((x) => ({
    id: x.id,
    subscriptionId: x.subscription_id,
    attempts: Number(x.attempts),
    url: x.url,
    secrets: x.previous_secret ? [x.secret, x.previous_secret] : [x.secret],
    eventId: x.event_id,
    type: x.type,
    data: typeof x.data === 'string' ? JSON.parse(x.data) : x.data,
    eventCreatedAt: new Date(x.created_at),
  }));
}

/** A 2xx: delivered, and the subscription is no longer failing. */
export async function recordDelivered(db: Db, d: ClaimedDelivery, statusCode: number): Promise<void> {
  await db.execute(sql`
    with done as (
      update webhook_deliveries set status = 'delivered', last_status_code = ${statusCode}, last_error = null, next_attempt_at = null
      where id = ${d.id} and attempts = ${d.attempts} and status = 'pending'
      returning subscription_id
    )
    update webhook_subscriptions s set failing_since = null from done where s.id = done.subscription_id and s.failing_since is not null`);
}

export interface FailureRecord {
  statusCode: number | null;
  error: string;
  now: Date;
  /** The next attempt, or null when retries are exhausted (the delivery fails). */
  retryAt: Date | null;
  /** A subscription whose deliveries have failed this long without a success is disabled. */
  disableAfterMs: number;
}

/** A failed attempt: retried later or given up; the subscription is disabled once failing too long. Returns the reason if it was disabled. */
export async function recordFailed(db: Db, d: ClaimedDelivery, f: FailureRecord): Promise<string | null> {
  return db.transaction(async (tx) => {
    const updated = rowsOf(
      await tx.execute(sql`
        update webhook_deliveries
        set status = ${f.retryAt ? 'pending' : 'failed'}, last_status_code = ${f.statusCode}, last_error = ${f.error.slice(0, 500)},
            next_attempt_at = ${f.retryAt ? iso(f.retryAt) : null}
        where id = ${d.id} and attempts = ${d.attempts} and status = 'pending'
        returning id`),
    );
    if (updated.length === 0) return null;
    const [sub] = rowsOf<{ failing_since: string | Date }>(
      await tx.execute(sql`
        update webhook_subscriptions set failing_since = coalesce(failing_since, ${iso(f.now)})
        where id = ${d.subscriptionId} and disabled_at is null
        returning failing_since`),
    );
    if (!sub) return null;
    const since = new Date(sub.failing_since);
    if (f.now.getTime() - since.getTime() < f.disableAfterMs) return null;
    const reason = `Deliveries failed without a success since ${since.toISOString()} (last: ${f.error.slice(0, 200)}); fix the endpoint and PATCH {"enabled": true}.`;
    await tx.execute(sql`
      update webhook_subscriptions set disabled_at = ${iso(f.now)}, disabled_reason = ${reason}, updated_at = ${iso(f.now)} where id = ${d.subscriptionId}`);
    await tx.execute(sql`
      update webhook_deliveries set status = 'failed', last_error = 'subscription disabled', next_attempt_at = null
      where subscription_id = ${d.subscriptionId} and status = 'pending'`);
    return reason;
  });
}

/** Wakes every LISTENing delivery worker once the caller's transaction commits. */
export async function notifyWorkers(db: Pick<Db, 'execute'>): Promise<void> {
  await db.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${DELIVERIES_CREATED})`);
}

