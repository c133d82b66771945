// The views services answer with, as TypeBox schemas: one definition is the TS type services
// build and the schema routes validate, serialize and document with (src/http/schemas.ts
// re-exports them). Here, not under src/http, because services may not import the HTTP layer.
import { Type, type Static, type TSchema } from 'typebox';
import type { TxStatus } from './relay-state.ts';

/** uint256 token id emitted as a JSON number with exact digits (fast-json-stringify writes bigints verbatim). */
export const TokenIdJson = Type.Unsafe<bigint>({ type: 'integer', description: 'uint256 token id (exact digits)' });
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const Address = Type.String({ description: 'EIP-55 checksummed address', pattern: '^0x[0-9a-fA-F]{40}$' });

export const TransactionStatusName = Type.Union([
  Type.Literal('Unsubmitted'),
  Type.Literal('Submitted'),
  Type.Literal('Mined'),
  Type.Literal('Confirmed'),
  Type.Literal('Failed'),
]);

export const TransactionRequest = Type.Object(
  {
    requestId: Type.String(),
    status: TransactionStatusName,
    hash: Type.Optional(Type.String()),
    failureReason: Type.Optional(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'TransactionRequest' },
);
export type TransactionRequest = Static<typeof TransactionRequest>;

const DeviceDefinition = Type.Object({
  definitionId: Type.String(),
  deviceDefinitionId: Type.String(),
  name: Type.String(),
  make: Type.Object({ id: Type.String(), name: Type.String() }),
  type: Type.Object({ type: Type.Literal('Vehicle'), make: Type.String(), model: Type.String(), year: Type.Integer() }),
  deviceAttributes: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })),
  verified: Type.Boolean(),
});

/**
 * `T | null` written as `nullable: true` on T, not as `anyOf [T, null]`: fast-json-stringify
 * picks an anyOf branch by validating the value with Ajv, and Ajv rejects bigint token ids and
 * Date timestamps, so a minted vehicle (or an opted-in one) failed to serialize with a 500.
 * @fastify/swagger writes it as `type: [..., "null"]` in the OpenAPI 3.1 document. T needs a `type`.
 */
export const Nullable = <T extends TSchema>(t: T) => {
  const s = t as { type?: unknown; anyOf?: { type?: unknown; const?: unknown }[] };
  // A union of literals (e.g. a status name) becomes an enum that lists null too.
  if (s.type === undefined && s.anyOf?.every((m) => m.const !== undefined && m.type === s.anyOf?.[0]?.type)) {
    return Type.Unsafe<Static<T> | null>({ type: s.anyOf[0]?.type, enum: [...s.anyOf.map((m) => m.const), null], nullable: true });
  }
  if (s.type === undefined) throw new TypeError('Nullable() needs a schema with a type');
  // A nullable copy is another schema: it must not claim T's $id (the document names T by it).
  const { $id: _id, ...rest } = t as TSchema & { $id?: string };
  return Type.Unsafe<Static<T> | null>({ ...rest, nullable: true });
};

export const UserDevice = Type.Object(
  {
    id: Type.String(),
    vin: Nullable(Type.String()),
    vinConfirmed: Type.Boolean(),
    name: Nullable(Type.String()),
    customImageUrl: Nullable(Type.String()),
    countryCode: Type.String(),
    deviceDefinition: DeviceDefinition,
    imageUrl: Nullable(Type.String({ description: 'The public vehicle image (/v1/vehicle/{tokenId}/image) once minted, else null' })),
    metadata: Type.Object({ powertrainType: Type.Optional(Type.String()), canProtocol: Type.Optional(Type.String()) }),
    compatibleIntegrations: Type.Array(
      Type.Object({
        id: Type.String({ description: 'Integration token id in decimal' }),
        tokenId: TokenIdJson,
        vendor: Type.String({ description: 'The integration name registered on chain' }),
        country: Type.String({ description: "The vehicle's countryCode" }),
      }),
      { description: 'Integrations known to this service (from the chain; none is limited to a region, so every one applies)' },
    ),
    integrations: Type.Array(
      Type.Object({
        integrationId: Type.String(),
        status: Type.String(),
        externalId: Nullable(Type.String()),
        createdAt: Timestamp,
        updatedAt: Timestamp,
        tokenId: Type.Optional(TokenIdJson),
        syntheticDevice: Type.Optional(
          Type.Object({
            tokenId: Type.Optional(TokenIdJson),
            address: Type.Optional(Address),
            txHash: Type.Optional(Type.String()),
            status: Type.String(),
            failureReason: Nullable(Type.String()),
          }),
        ),
      }),
    ),
    aftermarketDevice: Nullable(Type.Object({ serial: Nullable(Type.String()), tokenId: TokenIdJson, address: Address })),
    nft: Nullable(
      Type.Object({
        tokenId: Nullable(TokenIdJson),
        ownerAddress: Nullable(Address),
        tokenUri: Nullable(Type.String()),
        txHash: Nullable(Type.String()),
        status: Nullable(TransactionStatusName),
        failureReason: Nullable(Type.String()),
      }),
    ),
    optedInAt: Nullable(Timestamp),
    privilegedUsers: Type.Array(
      Type.Object({
        address: Address,
        privileges: Type.Array(Type.Object({ id: Type.Integer(), expiry: Timestamp, updatedAt: Timestamp })),
      }),
    ),
    createdAt: Timestamp,
    /** In /shared only: what the caller may do with the vehicle, unexpired at the time of the read. */
    privileges: Type.Optional(Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), expiresAt: Timestamp }))),
  },
  { $id: 'UserDevice' },
);
export type UserDevice = Static<typeof UserDevice>;

/** A transaction request row, as far as its view needs it. */
export interface TransactionRequestRow {
  id: string;
  status: string;
  hash: string | null;
  blockNumber: bigint | null;
  failureReason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * The API view of a request. The hash appears once the transaction was broadcast (a signed but
 * unsent transaction is nowhere to be found yet, and may still be re-signed if its nonce is
 * spent elsewhere); a failed request shows it only if it was mined (reverted on chain).
 */
export function toTransactionRequest(row: TransactionRequestRow): TransactionRequest {
  const status = row.status as TxStatus;
  const showHash = row.hash && (status === 'Submitted' || status === 'Mined' || status === 'Confirmed' || (status === 'Failed' && row.blockNumber !== null));
  return {
    requestId: row.id,
    status,
    ...(showHash ? { hash: row.hash! } : {}),
    ...(status === 'Failed' && row.failureReason ? { failureReason: row.failureReason } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export const UpdateTask = Type.Object(
  {
    taskId: Type.String(),
    status: Type.Union([Type.Literal('Pending'), Type.Literal('InProgress'), Type.Literal('Succeeded'), Type.Literal('Failed')]),
    requestedAt: Timestamp,
    updatedAt: Timestamp,
    fromVersion: Nullable(Type.String()),
    toVersion: Nullable(Type.String()),
    failureReason: Type.Optional(Type.String({ description: 'Why the device cloud reports the update as failed' })),
  },
  { $id: 'FirmwareUpdateTask', description: "A firmware update requested through the manufacturer's device cloud" },
);
export type UpdateTask = Static<typeof UpdateTask>;

const TransactionStatus = Nullable(TransactionRequest);

export const AftermarketDeviceInfo = Type.Object({
  serial: Type.String(),
  unitId: Type.String({ description: 'Same as serial (the original API’s name)' }),
  tokenId: TokenIdJson,
  ethereumAddress: Address,
  ownerAddress: Nullable(Address),
  beneficiaryAddress: Nullable(Address),
  manufacturer: Type.Object({ tokenId: Nullable(TokenIdJson), name: Nullable(Type.String()) }),
  vehicleTokenId: Nullable(TokenIdJson),
  userDeviceId: Nullable(Type.String({ description: "The caller's vehicle the device is paired with" })),
  claim: TransactionStatus,
  pair: TransactionStatus,
  unpair: TransactionStatus,
  firmware: Type.Object({
    releaseVersion: Nullable(Type.String()),
    lastSeenAt: Nullable(Timestamp),
    update: Nullable(UpdateTask),
  }),
  isUpdated: Nullable(Type.Boolean({ description: "The original API's field: the device runs the latest release the manufacturer's cloud last offered; null when unknown" })),
  shouldUpdate: Nullable(Type.Boolean({ description: 'Not updated and no update under way; null when unknown' })),
  releaseVersion: Nullable(Type.String({ description: 'The firmware version the device last reported (as firmware.releaseVersion)' })),
  deviceName: Nullable(Type.String({ description: 'The three-word device name of its NFT metadata' })),
}, { $id: 'AftermarketDevice' });
export type AftermarketDeviceInfo = Static<typeof AftermarketDeviceInfo>;

/** A firmware update task row, as far as its view needs it. */
export interface UpdateTaskRow {
  id: string;
  status: string;
  requestedAt: Date;
  updatedAt: Date;
  fromVersion: string | null;
  toVersion: string | null;
  failureReason: string | null;
}

export function toUpdateTask(t: UpdateTaskRow): UpdateTask {
  return {
    taskId: t.id,
    status: t.status as UpdateTask['status'],
    requestedAt: t.requestedAt,
    updatedAt: t.updatedAt,
    fromVersion: t.fromVersion,
    toVersion: t.toVersion,
    ...(t.status === 'Failed' && t.failureReason ? { failureReason: t.failureReason } : {}),
  };
}
