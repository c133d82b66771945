// Turns a new event into one pending delivery per matching webhook subscription, in the event's
// transaction. (Stub: the webhook delivery work fills it in.)
import type { Db, Tx } from '../db/engine.ts';
import type { EventRow } from '../events/outbox.ts';

export async function createDeliveries(_tx: Tx | Db, _event: EventRow): Promise<void> {}
