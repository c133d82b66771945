// The events apps can subscribe to (webhooks, the SSE stream). Chain events are emitted when the
// indexer applies them; the others in the transaction of the API call that makes the change.
// A reorg that undoes a chain event emits its reverse (claimed ↔ unclaimed, paired ↔ unpaired,
// shared ↔ share_revoked); the mints have none, so theirs is `<type>.reverted`.
export const EVENT_TYPES = [
  'vehicle.registered',
  'vehicle.deleted',
  'vehicle.minted',
  'vehicle.minted.reverted',
  'vehicle.shared',
  'vehicle.share_revoked',
  'aftermarket_device.claimed',
  'aftermarket_device.unclaimed',
  'aftermarket_device.paired',
  'aftermarket_device.unpaired',
  'synthetic_device.minted',
  'synthetic_device.minted.reverted',
  'transaction.failed',
  'error_codes.reported',
  'error_codes.cleared',
  'document.created',
  'document.deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The type of the event POST /v1/webhooks/{id}/test sends: not one of EVENT_TYPES, as it is about
 * the subscription itself; it goes to that subscription alone and never onto the stream.
 */
export const TEST_EVENT_TYPE = 'webhook.test';
