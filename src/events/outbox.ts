// The event outbox: emitEvent writes the event in the caller's transaction, so an event exists
// exactly when its change committed. Deliveries and the SSE stream read from this table.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/engine.ts';
import { events } from '../db/schema.ts';
import type { EventType } from '../domain/events.ts';
import { newKsuid } from '../domain/ids.ts';
import { createDeliveries } from '../webhooks/fan-out.ts';

export type EventRow = typeof events.$inferSelect;

export interface NewEvent {
  type: EventType;
  /** The user the event is about: the owner of the vehicle, device or document. */
  userId: string;
  /** The vehicle NFT it concerns, if minted (users with a privilege on it may see it). */
  vehicleTokenId?: bigint | null;
  /** Ordering key: userDeviceId for vehicles, serial for devices, the document id. */
  resource: string;
  /** The resource as the API shows it, plus userDeviceId / serial (issue 15). */
  data: Record<string, unknown>;
}

export async function emitEvent(tx: Tx | Db, input: NewEvent): Promise<EventRow> {
  const [row] = await emitEvents(tx, [input]);
  return row!;
}

/** Several events in one statement (a batch of error-code submissions, an indexer batch), in order. */
export async function emitEvents(tx: Tx | Db, inputs: readonly NewEvent[]): Promise<EventRow[]> {
  if (inputs.length === 0) return [];
  const rows = await tx
    .insert(events)
    .values(
      inputs.map((input) => ({
        id: `msg_${newKsuid()}`,
        type: input.type,
        userId: input.userId,
        vehicleTokenId: input.vehicleTokenId ?? null,
        resource: input.resource,
        data: sql`${jsonText(input.data)}::jsonb`,
      })),
    )
    .returning();
  // Identity values follow the VALUES order, so sorting by seq restores the callers' order.
  rows.sort((a, b) => a.seq - b.seq);
  for (const row of rows) await createDeliveries(tx, row);
  return rows;
}

/**
 * The data as JSON the way the API writes it: token ids (bigints) as numbers with exact digits
 * (jsonb keeps them exact), dates as ISO strings. Bigints pass JSON.stringify as strings behind a
 * random mark no stored text can forge, then lose their quotes.
 */
export function jsonText(data: Record<string, unknown>): string {
  const mark = `bigint-${randomBytes(8).toString('hex')}:`;
  return JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}` : v)).replace(new RegExp(`"${mark}(-?\\d+)"`, 'g'), '$1');
}
