// Reading the outbox for one user, and waking readers when events commit. The stream route
// (src/http/routes/events.ts) and anything else that follows the outbox use these.
//
// Who sees an event: the user it is about (their login, or their wallet for vehicles and devices
// this service knows only from the chain: user id `address:<wallet>`), its audience address (a
// share's grantee, also once the share ended), and holders of a current (unexpired) privilege on
// the vehicle it names.
import { sql } from 'drizzle-orm';
import { rowsOf, type Database, type Db } from '../db/engine.ts';
import { CHAIN_OWNER_PREFIX } from '../domain/chain-effects.ts';
import { TEST_EVENT_TYPE } from '../domain/events.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { EVENTS_CHANNEL } from './outbox.ts';

/** drizzle/0005_events_notify.sql announces every committed insert into `events` here. */

/** An event as it is sent: `body` is the JSON a webhook gets, `{"type","timestamp","data"}`. */
export interface OutboxEvent {
  seq: number;
  id: string;
  type: string;
  body: string;
}

/** The Standard Webhooks body; `dataJson` is the stored data as JSON text (token ids keep every digit). */
export function eventBody(type: string, createdAt: Date, dataJson: string): string {
  return `{"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(createdAt.toISOString())},"data":${dataJson}}`;
}

/** Events after `afterSeq` that `user` may see, oldest first. */
export async function eventsFor(db: Db, user: AuthUser, afterSeq: number, limit: number): Promise<OutboxEvent[]> {
  const address = user.address?.toLowerCase() ?? null;
  const own = address
    ? sql`(user_id = ${user.id} or user_id = ${CHAIN_OWNER_PREFIX + address} or audience_address = ${address} or vehicle_token_id in (select token_id from nft_privileges where user_address = ${address} and expiry > now()))`
    : sql`user_id = ${user.id}`;
  const rows = rowsOf<{ seq: string | number; id: string; type: string; created_at: string | Date; data: string }>(
    await db.execute(sql`select seq, id, type, created_at, data::text as data from events where seq > ${afterSeq} and ${own} and type <> ${TEST_EVENT_TYPE} order by seq limit ${limit}`),
  );
  return rows.map((r) => ({ seq: Number(r.seq), id: r.id, type: r.type, body: eventBody(r.type, new Date(r.created_at), r.data) }));
}

/** The newest event's position (0 when there is none): a stream without Last-Event-ID starts after it. */
export async function latestSeq(db: Db): Promise<number> {
  const [row] = rowsOf<{ seq: string | number | null }>(await db.execute(sql`select max(seq) as seq from events`));
  return Number(row?.seq ?? 0);
}

/** The position of event `id`, or null when it is unknown (never existed, or pruned). */
export async function seqOf(db: Db, id: string): Promise<number | null> {
  const [row] = rowsOf<{ seq: string | number }>(await db.execute(sql`select seq from events where id = ${id}`));
  return row ? Number(row.seq) : null;
}

export interface EventWakeups {
  /** Calls `wake` after every commit that added events (and after a lost listen connection returns). */
  subscribe(wake: () => void): () => void;
  close(): Promise<void>;
}

/** One LISTEN per process for every reader. */
export async function listenForEvents(database: Pick<Database, 'listen'>): Promise<EventWakeups> {
  const readers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of readers) wake();
  };
  const listener = await database.listen(EVENTS_CHANNEL, {
    onNotify: wakeAll,
    // Notifications may have been missed while not listening: every reader looks again.
    onLive: (live) => {
      if (live) wakeAll();
    },
  });
  return {
    subscribe(wake) {
      readers.add(wake);
      return () => readers.delete(wake);
    },
    close: () => listener.close(),
  };
}
