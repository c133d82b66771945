// The event outbox: emitEvent writes the event in the caller's transaction, so an event exists
// exactly when its change committed. Deliveries and the SSE stream read from this table.
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
  const [row] = await tx
    .insert(events)
    .values({
      id: `msg_${newKsuid()}`,
      type: input.type,
      userId: input.userId,
      vehicleTokenId: input.vehicleTokenId ?? null,
      resource: input.resource,
      data: input.data,
    })
    .returning();
  await createDeliveries(tx, row!);
  return row!;
}
