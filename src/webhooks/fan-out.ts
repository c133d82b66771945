// Turns a new event into one pending delivery per matching webhook subscription, in the event's
// transaction: the subscriptions of the user the event is about, and, for an event about a
// minted vehicle, those of users whose address holds a current privilege on it (as /shared
// finds vehicles shared with an address). One statement, which finds nothing quickly when nobody
// subscribed (the busiest writers, error codes, pay one index probe). When it created deliveries
// it also notifies the delivery workers, which PostgreSQL does at commit.
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/engine.ts';
import type { EventRow } from '../events/outbox.ts';

/** The channel the delivery workers LISTEN on (src/webhooks/worker.ts). */
export const DELIVERY_CHANNEL = 'devices_api_webhooks';

/** Matches a subscription's `events` list: the type itself or "*". */
export const eventMatch = (type: string) => sql`(s.events @> '["*"]'::jsonb or s.events @> jsonb_build_array(${type}::text))`;

export async function createDeliveries(tx: Tx | Db, event: EventRow): Promise<void> {
  const token = event.vehicleTokenId === null ? null : event.vehicleTokenId.toString();
  await tx.execute(sql`
    with ins as (
      insert into webhook_deliveries (id, subscription_id, event_seq, resource, status, next_attempt_at)
      select replace(gen_random_uuid()::text, '-', ''), s.id, ${event.seq}, ${event.resource}, 'pending', now()
      from webhook_subscriptions s
      where s.disabled_at is null and ${eventMatch(event.type)}
        and (s.user_id = ${event.userId}
          or (${token}::numeric is not null and s.user_address in (
            select p.user_address from nft_privileges p where p.token_id = ${token}::numeric and p.expiry > now())))
      on conflict do nothing
      returning 1
    )
    select pg_notify(${DELIVERY_CHANNEL}, '') from (select 1) one where exists (select 1 from ins)`);
}
