// HTTP <-> WebhookService for /v1/webhooks: subscriptions, secret rotation, a test event, the
// deliveries log and redelivery (issue 15; README "Webhooks").
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { Ksuid, Nullable, Timestamp } from '../schemas.ts';
import { EVENT_TYPES } from '../../domain/events.ts';
import { MAX_WEBHOOK_URL_LENGTH } from '../../webhooks/url-policy.ts';
import type { WebhookService } from '../../services/webhooks.ts';

const tags = ['webhooks'];
const security = [{ bearerAuth: [] }];

const Url = Type.String({ maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'The endpoint: https (http only with WEBHOOK_ALLOW_HTTP=true), on a public address in production' });
const Events = Type.Array(Type.String({ maxLength: 64 }), {
  minItems: 1,
  maxItems: 50,
  description: `Event types to receive (${EVENT_TYPES.join(', ')}), or ["*"] for all`,
});
const Description = Type.String({ maxLength: 500 });

const CreateBody = Type.Object({ url: Url, events: Events, description: Type.Optional(Description) }, { $id: 'WebhookCreateRequest' });
const UpdateBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ description: 'true re-enables a subscription disabled after failing; false pauses it' })),
  },
  { $id: 'WebhookUpdateRequest' },
);

const webhookFields = {
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Type.String(),
  enabled: Type.Boolean({ description: 'false once disabled (by its owner, or after failing for WEBHOOK_DISABLE_AFTER)' }),
  disabledReason: Nullable(Type.String({ description: 'Why it is disabled' })),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};
const Webhook = Type.Object(webhookFields, { $id: 'Webhook' });
const WebhookWithSecret = Type.Object(
  { ...webhookFields, secret: Type.String({ description: 'The Standard Webhooks signing secret (whsec_…); shown only here and on rotation' }) },
  { $id: 'WebhookWithSecret' },
);
const WebhookList = Type.Object({ webhooks: Type.Array(Webhook) }, { $id: 'WebhookList' });

const Delivery = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String({ description: 'The webhook-id header of every attempt' }),
    type: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    lastAttemptAt: Nullable(Timestamp),
    nextAttemptAt: Nullable(Timestamp),
    createdAt: Timestamp,
  },
  { $id: 'WebhookDelivery' },
);
const DeliveryList = Type.Object({ deliveries: Type.Array(Delivery), nextCursor: Type.Optional(Type.String()) }, { $id: 'WebhookDeliveryList' });

const IdParams = Type.Object({ id: Ksuid });
const DeliveryParams = Type.Object({ id: Ksuid, deliveryId: Type.String({ pattern: '^[0-9a-f]{32}$' }) });
const DeliveryQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'The x-next-cursor of the previous page' })),
});

const errors = errorResponses(400, 401, 404);

type WebhookRoutesOptions = { webhooks: WebhookService };
type App = Parameters<FastifyPluginAsyncTypebox<WebhookRoutesOptions>>[0];

export const webhookRoutes: FastifyPluginAsyncTypebox<WebhookRoutesOptions> = async (app, { webhooks }) => {
  subscriptionRoutes(app, webhooks);
  subscriptionActionRoutes(app, webhooks);
  deliveryRoutes(app, webhooks);
};

/** Create, list, read, change and delete subscriptions. */
function subscriptionRoutes(app: App, webhooks: WebhookService): void {
  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags,
        security,
        operationId: 'createWebhook',
        summary: 'Subscribe an endpoint to events; the answer carries the signing secret',
        description:
          'Events about the caller’s vehicles, devices and documents, and vehicles shared with the caller’s address, are POSTed to `url` signed per ' +
          'Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) and retried for more than 24 h. 409 past WEBHOOK_MAX_PER_USER subscriptions.',
        body: CreateBody,
        response: { 201: WebhookWithSecret, ...errorResponses(400, 401, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await webhooks.create(req.user, req.body)),
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        tags,
        security,
        operationId: 'listWebhooks',
        summary: 'The caller’s webhook subscriptions, newest first',
        description: 'Secrets are not shown (rotate one to get a new secret).',
        response: { 200: WebhookList, ...errorResponses(401) },
      },
    },
    async (req) => ({ webhooks: await webhooks.list(req.user) }),
  );

  app.get(
    '/v1/webhooks/:id',
    {
      schema: { tags, security, operationId: 'getWebhook', summary: 'One webhook subscription', description: 'Disabled ones say why.', params: IdParams, response: { 200: Webhook, ...errors } },
    },
    async (req) => webhooks.get(req.user, req.params.id),
  );

  app.patch(
    '/v1/webhooks/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'updateWebhook',
        summary: 'Change a subscription’s url, events or description, or enable / disable it',
        description: 'Only the fields given change. `enabled: true` re-enables a subscription that was disabled after failing.',
        params: IdParams,
        body: UpdateBody,
        response: { 200: Webhook, ...errors },
      },
    },
    async (req) => webhooks.update(req.user, req.params.id, req.body),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteWebhook',
        summary: 'Delete a subscription and its deliveries log',
        description: 'Pending deliveries are dropped.',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors },
      },
    },
    async (req, reply) => {
      await webhooks.remove(req.user, req.params.id);
      return reply.code(204).send(null);
    },
  );
}

/** A new signing secret, and a test event. */
function subscriptionActionRoutes(app: App, webhooks: WebhookService): void {
  app.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      schema: {
        tags,
        security,
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret; the answer carries the new one',
        description: 'Every attempt from now on, retries included, is signed with the new secret; for 24 hours it also carries a signature with the replaced one (`webhook-signature` holds both, space-separated), so a receiver can switch secrets without missing a delivery.',
        params: IdParams,
        response: { 200: WebhookWithSecret, ...errors },
      },
    },
    async (req) => webhooks.rotateSecret(req.user, req.params.id),
  );

  app.post(
    '/v1/webhooks/:id/test',
    {
      schema: {
        tags,
        security,
        operationId: 'testWebhook',
        summary: 'Send a `webhook.test` event to this subscription',
        description: 'Queued and delivered like any event (signed, retried); follow it in the deliveries log. 409 while the subscription is disabled.',
        params: IdParams,
        response: { 202: Delivery, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (req, reply) => reply.code(202).send(await webhooks.sendTest(req.user, req.params.id)),
  );
}

/** The deliveries log and redelivery. */
function deliveryRoutes(app: App, webhooks: WebhookService): void {
  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        security,
        operationId: 'listWebhookDeliveries',
        summary: 'The subscription’s deliveries, newest event first',
        description: 'Each event sent to this subscription: status, attempts, the last answer and the next attempt. Paged: x-next-cursor (and a Link rel="next").',
        params: IdParams,
        querystring: DeliveryQuery,
        response: { 200: { ...DeliveryList, headers: { 'x-next-cursor': { type: 'string' }, link: { type: 'string' } } }, ...errors },
      },
    },
    async (req, reply) => {
      const limit = req.query.limit ?? 100;
      const page = await webhooks.deliveries(req.user, req.params.id, { limit, cursor: req.query.cursor });
      if (page.nextCursor) {
        const next = new URLSearchParams({ limit: String(limit), cursor: page.nextCursor });
        reply.header('x-next-cursor', page.nextCursor).header('link', `</v1/webhooks/${req.params.id}/deliveries?${next.toString()}>; rel="next"`);
      }
      return { deliveries: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: {
        tags,
        security,
        operationId: 'redeliverWebhookDelivery',
        summary: 'Send a delivered or failed delivery again, with the same webhook-id',
        description: 'Due at once. 409 while it is still pending or the subscription is disabled.',
        params: DeliveryParams,
        response: { 202: Delivery, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (req, reply) => reply.code(202).send(await webhooks.redeliver(req.user, req.params.id, req.params.deliveryId)),
  );
}
