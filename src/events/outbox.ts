// The event outbox: emitEvent writes the event in the caller's transaction, so an event exists
// exactly when its change committed. Deliveries and the SSE stream read from this table; the same
// statement creates the webhook deliveries and notifies EVENTS_CHANNEL, which PostgreSQL sends at
// commit to whichever process listens (API replicas' streams, every replica's delivery worker).
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db, type Tx } from '../db/engine.ts';
import type { EventType } from '../domain/events.ts';
import { newKsuid } from '../domain/ids.ts';
import { insertDeliveriesFor } from '../webhooks/fan-out.ts';

/**
 * The channel emitEvents notifies at commit: event streams wake on any notification, delivery
 * workers only on DELIVERIES_CREATED (most events, error codes above all, have no subscriber).
 */
export const EVENTS_CHANNEL = 'devices_api_events';
export const DELIVERIES_CREATED = 'deliveries';

export interface EmittedEvent {
  /** The Standard Webhooks `webhook-id`. */
  id: string;
  /** The stream's order and resume point. */
  seq: number;
}

export interface NewEvent {
  type: EventType;
  /** The user the event is about: the owner of the vehicle, device or document. */
  userId: string;
  /** The vehicle NFT it concerns, if minted (users with a privilege on it may see it). */
  vehicleTokenId?: bigint | null;
  /** Ordering key: userDeviceId for vehicles, serial for devices, the document id. */
  resource: string;
  /** A wallet that sees it whatever it holds: a share's grantee, who no longer holds the revoked privilege. */
  audienceAddress?: string | null;
  /** The resource as the API shows it, plus userDeviceId / serial (issue 15). */
  data: Record<string, unknown>;
}

export async function emitEvent(tx: Tx | Db, input: NewEvent): Promise<EmittedEvent> {
  const [row] = await emitEvents(tx, [input]);
  return row!;
}

/**
 * Several events (a batch of error-code submissions, an indexer batch), in order, in one statement
 * with their webhook deliveries and the notification: the whole batch travels as one JSON
 * parameter, so a batch costs one round trip whatever its size.
 */
export async function emitEvents(tx: Tx | Db, inputs: readonly NewEvent[]): Promise<EmittedEvent[]> {
  if (inputs.length === 0) return [];
  const batch = jsonText(
    inputs.map((input, n) => ({
      n,
      id: `msg_${newKsuid()}`,
      type: input.type,
      user_id: input.userId,
      // A string, which the numeric column reads exactly, so most batches need no bigint pass.
      vehicle_token_id: input.vehicleTokenId?.toString() ?? null,
      resource: input.resource,
      audience_address: input.audienceAddress?.toLowerCase() ?? null,
      data: input.data,
    })),
  );
  const result = await tx.execute(sql`
    with new_events as (
      insert into events (id, type, user_id, vehicle_token_id, resource, audience_address, data)
      select e.id, e.type, e.user_id, e.vehicle_token_id, e.resource, e.audience_address, e.data
      from jsonb_to_recordset(${batch}::jsonb)
        as e(n int, id text, type text, user_id text, vehicle_token_id numeric, resource text, audience_address text, data jsonb)
      order by e.n
      returning seq, id, type, user_id, vehicle_token_id, resource, audience_address
    ), deliveries as (${insertDeliveriesFor(sql`new_events`)})
    select e.seq, e.id
    from new_events e, (select pg_notify(${EVENTS_CHANNEL}, case when exists (select 1 from deliveries) then ${DELIVERIES_CREATED} else '' end)) notified
    order by e.seq`);
  return rowsOf<{ seq: string | number; id: string }>(result).map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

/**
 * The data as JSON the way the API writes it: token ids (bigints) as numbers with exact digits
 * (jsonb keeps them exact), dates as ISO strings. Bigints pass JSON.stringify as strings behind a
 * random mark no stored text can forge, then lose their quotes.
 */
export function jsonText(data: unknown): string {
  // Most events carry no bigint, and JSON.stringify without a replacer is several times faster.
  try {
    return JSON.stringify(data);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const mark = `bigint-${randomBytes(8).toString('hex')}:`;
  return JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}` : v)).replace(new RegExp(`"${mark}(-?\\d+)"`, 'g'), '$1');
}
