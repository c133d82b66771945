// One schema for PGlite and PostgreSQL 15. Token ids are numeric(78,0) (uint256) read as bigint;
// addresses are stored lower-case 0x-hex so equality is a plain comparison (emitted checksummed).
import {
  type AnyPgColumn,
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  numeric,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

const tokenId = (name: string) => numeric(name, { precision: 78, scale: 0, mode: 'bigint' });
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Snapshot of the definition at registration, so listing vehicles needs no vPIC lookups. */
export interface DefinitionSnapshot {
  id: string;
  name: string;
  make: { id: string; name: string };
  model: string;
  year: number;
  attributes: { name: string; value: string }[];
  verified: boolean;
}

export interface UserDeviceMetadata {
  powertrainType?: string;
  canProtocol?: string;
}

export const metaTransactionRequests = pgTable(
  'meta_transaction_requests',
  {
    id: text('id').primaryKey(),
    userId: text('user_id'),
    /** What the call does: MintVehicle, Claim, Pair, Unpair, Unclaim, MintSynthetic, BurnVehicle, … */
    kind: text('kind').notNull(),
    status: text('status').notNull().default('Unsubmitted'),
    toAddress: text('to_address').notNull(),
    data: text('data').notNull(),
    /** The relayer account that signs it; nonce/fees/gas are fixed once, before the first send. */
    fromAddress: text('from_address'),
    nonce: bigint('nonce', { mode: 'bigint' }),
    gasLimit: bigint('gas_limit', { mode: 'bigint' }),
    maxFeePerGas: numeric('max_fee_per_gas', { precision: 78, scale: 0, mode: 'bigint' }),
    maxPriorityFeePerGas: numeric('max_priority_fee_per_gas', { precision: 78, scale: 0, mode: 'bigint' }),
    /** Signed raw transaction, stored before broadcasting so a restart re-sends the same bytes (same hash). */
    signedTx: text('signed_tx'),
    hash: text('hash'),
    blockHash: text('block_hash'),
    blockNumber: bigint('block_number', { mode: 'bigint' }),
    failureReason: text('failure_reason'),
    attempts: integer('attempts').notNull().default(0),
    /** The objects the request is about, for in-flight checks (vehicle, device, …). */
    subject: jsonb('subject').$type<Record<string, string>>().notNull().default({}),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('meta_tx_status_idx').on(t.status, t.createdAt),
    index('meta_tx_hash_idx').on(t.hash),
    // A vehicle's requests of one kind: …/shares reads every SetPrivileges request of the vehicle
    // (without it, a scan of the whole table: 620 ms at 310k rows, 1 ms with it).
    index('meta_tx_kind_user_device_idx').on(t.kind, sql`(${t.subject} ->> 'userDeviceId')`),
  ],
);

export const userDevices = pgTable(
  'user_devices',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    definitionId: text('definition_id').notNull(),
    definition: jsonb('definition').$type<DefinitionSnapshot>().notNull(),
    vin: text('vin'),
    vinConfirmed: boolean('vin_confirmed').notNull().default(false),
    name: text('name'),
    customImageUrl: text('custom_image_url'),
    countryCode: text('country_code').notNull(),
    metadata: jsonb('metadata').$type<UserDeviceMetadata>().notNull().default({}),
    tokenId: tokenId('token_id'),
    ownerAddress: text('owner_address'),
    mintRequestId: text('mint_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    burnRequestId: text('burn_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    optedInAt: ts('opted_in_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('user_devices_user_idx').on(t.userId, t.id),
    index('user_devices_owner_idx').on(t.ownerAddress, t.id),
    uniqueIndex('user_devices_token_idx').on(t.tokenId),
    index('user_devices_vin_idx').on(t.vin),
  ],
);

export const nftPrivileges = pgTable(
  'nft_privileges',
  {
    tokenId: tokenId('token_id').notNull(),
    privilege: integer('privilege').notNull(),
    userAddress: text('user_address').notNull(),
    expiry: ts('expiry').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tokenId, t.privilege, t.userAddress] }),
    index('nft_privileges_user_idx').on(t.userAddress, t.expiry),
  ],
);

export const aftermarketDevices = pgTable(
  'aftermarket_devices',
  {
    tokenId: tokenId('token_id').primaryKey(),
    serial: text('serial'),
    address: text('address').notNull(),
    manufacturerTokenId: tokenId('manufacturer_token_id'),
    manufacturerName: text('manufacturer_name'),
    ownerAddress: text('owner_address'),
    beneficiaryAddress: text('beneficiary_address'),
    userId: text('user_id'),
    vehicleTokenId: tokenId('vehicle_token_id'),
    claimRequestId: text('claim_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    pairRequestId: text('pair_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    unpairRequestId: text('unpair_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    firmwareVersion: text('firmware_version'),
    lastSeenAt: ts('last_seen_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('aftermarket_devices_serial_idx').on(t.serial),
    uniqueIndex('aftermarket_devices_address_idx').on(t.address),
    index('aftermarket_devices_owner_idx').on(t.ownerAddress),
    index('aftermarket_devices_vehicle_idx').on(t.vehicleTokenId),
  ],
);

/**
 * A described code as stored: [code, description]; system, definedBy and subsystem follow from
 * the code itself. Half the bytes of the whole object keeps a 20-code query under PostgreSQL's
 * 2 kB TOAST threshold (no compression on the busiest insert). Rows written before this format
 * hold the whole object, and are still read.
 */
export type StoredErrorCode =
  | [code: string, description: string]
  | { code: string; description: string; system: string; definedBy: string; subsystem: string };

export const errorCodeQueries = pgTable(
  'error_code_queries',
  {
    id: text('id').primaryKey(),
    userDeviceId: text('user_device_id')
      .notNull()
      .references(() => userDevices.id, { onDelete: 'cascade' }),
    codes: jsonb('codes').$type<StoredErrorCode[]>().notNull(),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    clearedAt: ts('cleared_at'),
  },
  (t) => [index('error_code_queries_device_idx').on(t.userDeviceId, t.id)],
);

/** The key of the DTC tables: a code per make; make '' applies to every make. Fresh builders per table. */
const dtcKey = () => ({ code: text('code').notNull(), make: text('make').notNull().default('') });
const byDtcKey = (t: { code: AnyPgColumn; make: AnyPgColumn }) => [primaryKey({ columns: [t.code, t.make] })];

/** Imported titles (`devices-api dtc import`). */
export const dtcDescriptions = pgTable(
  'dtc_descriptions',
  { ...dtcKey(), description: text('description').notNull(), importedAt: ts('imported_at').notNull().defaultNow() },
  byDtcKey,
);

/** Cached enrichment text per (code, make); model output stored as data only. */
export const dtcEnrichments = pgTable(
  'dtc_enrichments',
  { ...dtcKey(), text: text('text').notNull(), createdAt: ts('created_at').notNull().defaultNow() },
  byDtcKey,
);

export const documents = pgTable(
  'documents',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    userDeviceId: text('user_device_id').references(() => userDevices.id, { onDelete: 'set null' }),
    name: text('name').notNull(),
    type: text('type').notNull(),
    ext: text('ext').notNull(),
    contentType: text('content_type').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    blobKey: text('blob_key').notNull(),
    /** 'ready' rows are visible; 'deleting' rows are hidden while their blob is removed. */
    state: text('state').notNull().default('ready'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('documents_user_idx').on(t.userId, t.id),
    index('documents_device_idx').on(t.userDeviceId),
    uniqueIndex('documents_blob_key_idx').on(t.blobKey),
  ],
);

export const chainCursor = pgTable('chain_cursor', {
  id: text('id').primaryKey(),
  blockNumber: bigint('block_number', { mode: 'bigint' }).notNull(),
  blockHash: text('block_hash').notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** Next nonce per relayer account, taken under a row lock so replicas never reuse one. */
export const relayerAccounts = pgTable('relayer_accounts', {
  address: text('address').primaryKey(),
  nextNonce: bigint('next_nonce', { mode: 'bigint' }).notNull(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * Recent indexed blocks, to detect a reorg (a changed hash) and rewind to the fork point. The
 * indexer writes one row per applied batch (its last block) with the batch's undo log: the
 * rows it changed as they were before, so a rewind restores them (src/chain/indexer.ts).
 */
export const chainBlocks = pgTable('chain_blocks', {
  number: bigint('number', { mode: 'bigint' }).primaryKey(),
  hash: text('hash').notNull(),
  undo: jsonb('undo').$type<unknown[]>().notNull().default([]),
});

export const manufacturers = pgTable('manufacturers', {
  tokenId: tokenId('token_id').primaryKey(),
  name: text('name').notNull(),
  ownerAddress: text('owner_address'),
  createdAt: ts('created_at').notNull().defaultNow(),
}, (t) => [uniqueIndex('manufacturers_name_idx').on(t.name)]);

export const integrations = pgTable('integrations', {
  tokenId: tokenId('token_id').primaryKey(),
  name: text('name').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** Child indexes for synthetic device wallets: a sequence so replicas never derive the same wallet. */
export const syntheticWalletIndex = pgSequence('synthetic_wallet_index', { startWith: 1 });

export const syntheticDevices = pgTable(
  'synthetic_devices',
  {
    id: text('id').primaryKey(),
    userDeviceId: text('user_device_id').references(() => userDevices.id, { onDelete: 'set null' }),
    integrationTokenId: tokenId('integration_token_id').notNull(),
    vehicleTokenId: tokenId('vehicle_token_id').notNull(),
    /** HD child index of the server-derived wallet (SYNTHETIC_WALLET_MNEMONIC). */
    walletChildIndex: integer('wallet_child_index').notNull(),
    address: text('address').notNull(),
    tokenId: tokenId('token_id'),
    mintRequestId: text('mint_request_id').references(() => metaTransactionRequests.id, { onDelete: 'set null' }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('synthetic_devices_address_idx').on(t.address),
    uniqueIndex('synthetic_devices_token_idx').on(t.tokenId),
    index('synthetic_devices_vehicle_idx').on(t.vehicleTokenId, t.integrationTokenId),
  ],
);

export const firmwareUpdateTasks = pgTable(
  'firmware_update_tasks',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    aftermarketTokenId: tokenId('aftermarket_token_id').notNull(),
    serial: text('serial').notNull(),
    manufacturer: text('manufacturer').notNull(),
    status: text('status').notNull(),
    fromVersion: text('from_version'),
    toVersion: text('to_version'),
    cloudUpdateId: text('cloud_update_id'),
    failureReason: text('failure_reason'),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('firmware_update_tasks_device_idx').on(t.aftermarketTokenId, t.requestedAt)],
);

/**
 * The event outbox: one row per event, written in the database transaction that makes the change
 * (src/events/outbox.ts), so a rolled-back change has no event and a committed one is never lost.
 * `seq` orders events and is the stream's resume point; `id` is the Standard Webhooks `webhook-id`.
 */
export const events = pgTable(
  'events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: text('id').notNull(),
    type: text('type').notNull(),
    /** The user the event is about (owner of the vehicle, device or document). */
    userId: text('user_id').notNull(),
    /** The vehicle NFT it concerns, if minted: users holding a privilege on it see it too. */
    vehicleTokenId: tokenId('vehicle_token_id'),
    /** Ordering key: deliveries about one resource (userDeviceId, serial, document id) keep order. */
    resource: text('resource').notNull(),
    /** A wallet (lowercase) that sees the event whatever it holds: the grantee of a share, also once it ended. */
    audienceAddress: text('audience_address'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('events_id_idx').on(t.id),
    index('events_user_idx').on(t.userId, t.seq),
    index('events_vehicle_idx').on(t.vehicleTokenId, t.seq),
    index('events_audience_idx').on(t.audienceAddress, t.seq).where(sql`${t.audienceAddress} is not null`),
    index('events_created_idx').on(t.createdAt),
  ],
);

/** A user's webhook endpoint. `secret` is the Standard Webhooks signing secret (whsec_…). */
export const webhookSubscriptions = pgTable(
  'webhook_subscriptions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    /** The user's address (lower case) when subscribed: events about vehicles it holds a privilege on reach it. */
    userAddress: text('user_address'),
    url: text('url').notNull(),
    /** Event types, or ['*'] for all. */
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description').notNull().default(''),
    secret: text('secret').notNull(),
    /** The secret a rotation replaced: attempts are signed with it too until previousSecretUntil. */
    previousSecret: text('previous_secret'),
    previousSecretUntil: ts('previous_secret_until'),
    /** Set while deliveries fail; a subscription failing for 3 days is disabled. */
    failingSince: ts('failing_since'),
    disabledAt: ts('disabled_at'),
    disabledReason: text('disabled_reason'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [index('webhook_subscriptions_user_idx').on(t.userId, t.id), index('webhook_subscriptions_address_idx').on(t.userAddress)],
);

/** One event to one subscription: its attempts so far and when the next is due. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    subscriptionId: text('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: 'cascade' }),
    eventSeq: bigint('event_seq', { mode: 'number' })
      .notNull()
      .references(() => events.seq, { onDelete: 'cascade' }),
    /** The event's ordering key, copied so the worker's order check is one index probe. */
    resource: text('resource').notNull(),
    /** 'pending' (due at next_attempt_at), 'delivered', or 'failed' (retries exhausted or disabled). */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastAttemptAt: ts('last_attempt_at'),
    nextAttemptAt: ts('next_attempt_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    // The worker's ordering check: is an earlier delivery about this resource still pending?
    index('webhook_deliveries_pending_idx').on(t.subscriptionId, t.resource, t.eventSeq).where(sql`status = 'pending'`),
    // Also the deliveries log's order (newest event first).
    uniqueIndex('webhook_deliveries_event_idx').on(t.subscriptionId, t.eventSeq),
  ],
);
