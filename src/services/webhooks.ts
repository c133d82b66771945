// Webhook subscriptions (issue 15): a user's endpoints, the events each wants, the signing secret
// (shown only when created or rotated), the deliveries log and manual redelivery. Another user's
// subscription answers exactly as a missing one (404).
import { and, count, desc, eq, lt, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Db } from '../db/engine.ts';
import { events, webhookDeliveries, webhookSubscriptions } from '../db/schema.ts';
import { EVENT_TYPES, TEST_EVENT_TYPE } from '../domain/events.ts';
import { newKsuid } from '../domain/ids.ts';
import { newWebhookSecret } from '../domain/webhook-signature.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { checkWebhookUrl, RefusedAddressError, resolveAllowed, systemResolver, type Resolver, type UrlPolicy } from '../webhooks/url-policy.ts';
import { notifyWorkers } from '../webhooks/delivery-store.ts';

export type SubscriptionRow = typeof webhookSubscriptions.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

export interface WebhookInput {
  url?: string;
  events?: string[];
  description?: string;
  enabled?: boolean;
}

export interface WebhookServiceDeps {
  db: Db;
  policy: UrlPolicy;
  maxPerUser: number;
  resolve?: Resolver;
  now?: () => Date;
}

const NOT_FOUND = 'No webhook subscription with this id.';
const DELIVERY_NOT_FOUND = 'No delivery with this id for this webhook subscription.';
const KNOWN = new Set<string>(EVENT_TYPES);

/** How long a rotated-out secret keeps signing attempts beside the new one (as Svix does). */
const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** `["*"]`, or known event types (duplicates dropped). */
export function parseEventTypes(list: string[]): string[] {
  if (list.length === 0) throw badRequest('events must list event types, or be ["*"] for all of them');
  if (list.includes('*')) {
    if (list.length > 1) throw badRequest('events: "*" stands alone (it means every event type)');
    return ['*'];
  }
  const unknown = list.filter((t) => !KNOWN.has(t));
  if (unknown.length) throw badRequest(`events: unknown event type ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known: ${EVENT_TYPES.join(', ')} (or "*")`);
  return [...new Set(list)];
}

export const toWebhookView = (r: SubscriptionRow): WebhookView => ({
  id: r.id,
  url: r.url,
  events: r.events,
  description: r.description,
  enabled: r.disabledAt === null,
  disabledReason: r.disabledReason,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export function createWebhookService(deps: WebhookServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const resolve = deps.resolve ?? systemResolver;

  /** The URL if the policy accepts it; in production its host must resolve to public addresses only. */
  async function checkUrl(text: string): Promise<string> {
    const checked = checkWebhookUrl(text, deps.policy);
    if (!checked.ok) throw badRequest(checked.message);
    const host = checked.url.hostname.replace(/^\[|\]$/g, '');
    if (!deps.policy.allowPrivateNetworks && !/^[\d.]+$|:/.test(host)) {
      try {
        await resolveAllowed(host, deps.policy, resolve);
      } catch (err) {
        if (err instanceof RefusedAddressError) throw badRequest(`url: ${err.message}`);
        throw badRequest(`url: the host ${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`);
      }
    }
    return checked.url.toString();
  }

  async function owned(user: AuthUser, id: string): Promise<SubscriptionRow> {
    const [row] = await db
      .select()
      .from(webhookSubscriptions)
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.userId, user.id)));
    if (!row) throw notFound(NOT_FOUND);
    return row;
  }

  async function update(user: AuthUser, id: string, set: PgUpdateSetSource<typeof webhookSubscriptions>): Promise<SubscriptionRow> {
    const [row] = await db
      .update(webhookSubscriptions)
      .set({ ...set, updatedAt: now() })
      .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.userId, user.id)))
      .returning();
    if (!row) throw notFound(NOT_FOUND);
    return row;
  }

  const address = (user: AuthUser) => user.address?.toLowerCase() ?? null;

  return {
    async create(user: AuthUser, input: Required<Pick<WebhookInput, 'url' | 'events'>> & { description?: string }): Promise<WebhookView & { secret: string }> {
      const url = await checkUrl(input.url);
      const types = parseEventTypes(input.events);
      return db.transaction(async (tx) => {
        // Serialises one user's creates so that two at once cannot pass the limit together.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`webhooks:${user.id}`}))`);
        const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(webhookSubscriptions).where(eq(webhookSubscriptions.userId, user.id));
        if (n >= deps.maxPerUser) throw conflict(`You have ${n} webhook subscriptions, the most allowed (WEBHOOK_MAX_PER_USER); delete one first.`);
        const t = now();
        const [row] = await tx
          .insert(webhookSubscriptions)
          .values({ id: newKsuid(t), userId: user.id, userAddress: address(user), url, events: types, description: input.description ?? '', secret: newWebhookSecret(), createdAt: t, updatedAt: t })
          .returning();
        return { ...toWebhookView(row!), secret: row!.secret };
      });
    },

    async list(user: AuthUser): Promise<WebhookView[]> {
      const rows = await db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.userId, user.id)).orderBy(desc(webhookSubscriptions.id));
      return rows.map(toWebhookView);
    },

    get: async (user: AuthUser, id: string) => toWebhookView(await owned(user, id)),

    /** Changes what is given; `enabled: true` re-enables a disabled subscription (its failure clock starts again). */
    async update(user: AuthUser, id: string, input: WebhookInput): Promise<WebhookView> {
      await owned(user, id);
      const set: Partial<typeof webhookSubscriptions.$inferInsert> = { userAddress: address(user) };
      if (input.url !== undefined) set.url = await checkUrl(input.url);
      if (input.events !== undefined) set.events = parseEventTypes(input.events);
      if (input.description !== undefined) set.description = input.description;
      if (input.enabled === true) Object.assign(set, { disabledAt: null, disabledReason: null, failingSince: null });
      if (input.enabled === false) Object.assign(set, { disabledAt: now(), disabledReason: 'Disabled by its owner.' });
      return toWebhookView(await update(user, id, set));
    },

    async remove(user: AuthUser, id: string): Promise<void> {
      const gone = await db
        .delete(webhookSubscriptions)
        .where(and(eq(webhookSubscriptions.id, id), eq(webhookSubscriptions.userId, user.id)))
        .returning({ id: webhookSubscriptions.id });
      if (gone.length === 0) throw notFound(NOT_FOUND);
    },

    /**
     * A new secret, signing every attempt from the next one on; for SECRET_OVERLAP_MS attempts
     * carry a signature with the replaced secret too, so a receiver still checking the old one
     * keeps accepting deliveries until it has deployed the new one.
     */
    async rotateSecret(user: AuthUser, id: string): Promise<WebhookView & { secret: string }> {
      const row = await update(user, id, {
        previousSecret: sql`${webhookSubscriptions.secret}`,
        previousSecretUntil: new Date(now().getTime() + SECRET_OVERLAP_MS),
        secret: newWebhookSecret(),
      });
      return { ...toWebhookView(row), secret: row.secret };
    },

    /** Queues a `webhook.test` event for this subscription alone; it is delivered (and retried) like any other. */
    async sendTest(user: AuthUser, id: string): Promise<DeliveryView> {
      const sub = await owned(user, id);
      if (sub.disabledAt) throw conflict('The subscription is disabled; re-enable it with PATCH {"enabled": true} first.');
      return db.transaction(async (tx) => {
        const [event] = await tx
          .insert(events)
          .values({ id: `msg_${newKsuid()}`, type: TEST_EVENT_TYPE, userId: user.id, resource: sub.id, data: { subscriptionId: sub.id, message: 'A test event from POST /v1/webhooks/{id}/test.' } })
          .returning();
        const [delivery] = await tx
          .insert(webhookDeliveries)
          .values({ id: newDeliveryId(), subscriptionId: sub.id, eventSeq: event!.seq, resource: event!.resource, status: 'pending', nextAttemptAt: now() })
          .returning();
        await notifyWorkers(tx);
        return toDeliveryView(delivery!, event!);
      });
    },

    /** The subscription's deliveries, newest event first; `cursor` is the previous page's nextCursor. */
    async deliveries(user: AuthUser, id: string, o: { limit: number; cursor?: string }): Promise<{ items: DeliveryView[]; nextCursor?: string }> {
      await owned(user, id);
      const d = webhookDeliveries;
      const rows = await db
        .select({ d, eventId: events.id, type: events.type })
        .from(d)
        .innerJoin(events, eq(events.seq, d.eventSeq))
        .where(and(eq(d.subscriptionId, id), o.cursor ? lt(d.eventSeq, Number(o.cursor)) : undefined))
        .orderBy(desc(d.eventSeq))
        .limit(o.limit + 1);
      const page = rows.slice(0, o.limit);
      const items = page.map((r) => toDeliveryView(r.d, { id: r.eventId, type: r.type }));
      return { items, ...(rows.length > o.limit ? { nextCursor: String(page[page.length - 1]!.d.eventSeq) } : {}) };
    },

    /** Sends a delivered or failed delivery again now (same webhook-id); a failure continues the retry schedule where it stood. */
    async redeliver(user: AuthUser, id: string, deliveryId: string): Promise<DeliveryView> {
      const sub = await owned(user, id);
      if (sub.disabledAt) throw conflict('The subscription is disabled; re-enable it with PATCH {"enabled": true} first.');
      return db.transaction(async (tx) => {
        const [current] = await tx
          .select({ status: webhookDeliveries.status, nextAttemptAt: webhookDeliveries.nextAttemptAt })
          .from(webhookDeliveries)
          .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.subscriptionId, sub.id)))
          .for('update');
        if (!current) throw notFound(DELIVERY_NOT_FOUND);
        // A pending one may be in flight right now (a worker holds it): sending it again too would duplicate it.
        if (current.status === 'pending') throw conflict(`The delivery is pending already; its next attempt is due at ${current.nextAttemptAt?.toISOString()}.`);
        const [row] = await tx
          .update(webhookDeliveries)
          .set({ status: 'pending', nextAttemptAt: now() })
          .where(eq(webhookDeliveries.id, deliveryId))
          .returning();
        const [event] = await tx.select({ id: events.id, type: events.type }).from(events).where(eq(events.seq, row!.eventSeq));
        await notifyWorkers(tx);
        return toDeliveryView(row!, event!);
      });
    },
  };
}

/** Delivery ids are 32 hex digits (the fan-out makes them in SQL the same way). */
export const newDeliveryId = () => crypto.randomUUID().replaceAll('-', '');

export const toDeliveryView = (r: DeliveryRow, e: { id: string; type: string }): DeliveryView => ({
  id: r.id,
  eventId: e.id,
  type: e.type,
  status: r.status as DeliveryView['status'],
  attempts: r.attempts,
  lastStatusCode: r.lastStatusCode,
  lastError: r.lastError,
  lastAttemptAt: r.lastAttemptAt,
  nextAttemptAt: r.nextAttemptAt,
  createdAt: r.createdAt,
});

export type WebhookService = ReturnType<typeof createWebhookService>;
