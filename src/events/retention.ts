// Outbox retention: events older than EVENT_RETENTION_HOURS (at least 24 h, so Last-Event-ID can
// resume a day-old stream) are deleted by the worker, a batch per statement so no transaction
// holds many rows. An event with a delivery still pending stays until that delivery ends.
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/engine.ts';
import { runPeriodically, type PeriodicTask } from '../lib/periodic.ts';

export interface PruneOptions {
  /** Events created before this go. */
  olderThan: Date;
  /** Rows per statement. */
  batchSize: number;
}

/** Deletes one batch of expired events; returns how many went. */
export async function pruneEventsOnce(db: Db, opts: PruneOptions): Promise<number> {
  const result = await db.execute(sql`
    delete from events where seq in (
      select e.seq from events e
      where e.created_at < ${opts.olderThan.toISOString()}::timestamptz
        and not exists (select 1 from webhook_deliveries d where d.event_seq = e.seq and d.status = 'pending')
      order by e.seq limit ${opts.batchSize})
    returning seq`);
  return rowsOf(result).length;
}

export type EventPruner = PeriodicTask;

export interface EventPrunerOptions {
  db: Db;
  retentionMs: number;
  /** Between runs (default 10 min); a run goes on batch after batch until nothing is left. */
  intervalMs?: number;
  batchSize?: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  now?: () => Date;
}

export function startEventPruner(o: EventPrunerOptions): EventPruner {
  const intervalMs = o.intervalMs ?? 600_000;
  const batchSize = o.batchSize ?? 5000;
  const now = o.now ?? (() => new Date());
  const run = async (isStopped: () => boolean) => {
    const olderThan = new Date(now().getTime() - o.retentionMs);
    let total = 0;
    for (;;) {
      const n = await pruneEventsOnce(o.db, { olderThan, batchSize });
      total += n;
      if (n < batchSize || isStopped()) break;
    }
    if (total > 0) o.log.info({ pruned: total, olderThan }, 'events pruned');
  };
  return runPeriodically(intervalMs, run, (err) => o.log.warn({ err }, 'pruning events failed; retrying next interval'));
}
