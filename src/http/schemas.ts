// Shared TypeBox schemas: one definition drives validation, the TS types, serialization and
// the OpenAPI document.
import { Type, type Static, type TSchema } from 'typebox';

/** uint256 token id emitted as a JSON number with exact digits (fast-json-stringify writes bigints verbatim). */
export const TokenIdJson = Type.Unsafe<bigint>({ type: 'integer', description: 'uint256 token id (exact digits)' });
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time' });
export const Address = Type.String({ description: 'EIP-55 checksummed address', pattern: '^0x[0-9a-fA-F]{40}$' });

export const Ksuid = Type.String({ pattern: '^[0-9A-Za-z]{27}$', description: 'KSUID (27 base62 characters)' });

export const TokenIdParam = Type.String({ pattern: '^[0-9]{1,78}$', description: 'uint256 token id in decimal' });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    cursor: Type.Optional(Ksuid),
  },
);
export type PageQuery = Static<typeof PageQuery>;

/** The most vehicles a /me or /shared answer without `limit` carries (clients of the original expect the whole list). */
export const UNPAGED_VEHICLE_LIMIT = 2000;

export const VehiclePageQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 500, description: `Page size. Without it: the whole list, up to ${UNPAGED_VEHICLE_LIMIT} vehicles (then a next cursor)` }),
    ),
    cursor: Type.Optional({ ...Ksuid, description: 'The x-next-cursor (or nextCursor) of the previous page' }),
  },
  { additionalProperties: false },
);

/**
 * The ELM327 / OBD-II protocol number the vehicle's CAN bus speaks (ATSP 1–9, A–C), as the
 * original's app sends it ("6" = ISO 15765-4 CAN 11-bit 500 kbaud, "7" = 29-bit 500 kbaud).
 */
export const CanProtocol = Type.String({ pattern: '^[1-9A-C]$', description: 'ELM327/OBD-II protocol number: "1"–"9" or "A"–"C" (e.g. "6" = CAN 11-bit 500 kbaud)' });

export const UserDeviceIdParams = Type.Object({ userDeviceId: Ksuid });

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
