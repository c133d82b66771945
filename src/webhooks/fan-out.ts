// Turns new events into one pending delivery per matching webhook subscription, in the events'
// own statement (events/outbox.ts): the subscriptions of the user an event is about, of the
// event's audience address (a share's grantee), and, for an event about a minted vehicle, those of
// users whose address holds a current privilege on it (as /shared finds vehicles shared with an
// address). When nobody subscribed (the busiest writers,
// error codes) it costs one index probe per batch.
import { sql, type SQL } from 'drizzle-orm';

/**
 * An INSERT of the deliveries for the events in `newEvents`, a CTE with the columns seq, type,
 * user_id, vehicle_token_id, resource and audience_address; it returns one row per delivery created.
 */
export function insertDeliveriesFor(newEvents: SQL): SQL {
  return sql`
    insert into webhook_deliveries (id, subscription_id, event_seq, resource, status, next_attempt_at)
    select replace(gen_random_uuid()::text, '-', ''), s.id, e.seq, e.resource, 'pending', now()
    from ${newEvents} e
    join webhook_subscriptions s on s.disabled_at is null
      and (s.events @> '["*"]'::jsonb or s.events @> jsonb_build_array(e.type))
      and (s.user_id = e.user_id
        or s.user_address = e.audience_address
        or (e.vehicle_token_id is not null and s.user_address in (
          select p.user_address from nft_privileges p where p.token_id = e.vehicle_token_id and p.expiry > now())))
    on conflict do nothing
    returning 1`;
}
