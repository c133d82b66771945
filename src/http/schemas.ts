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
  return Type.Unsafe<Static<T> | null>({ ...t, nullable: true });
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
    metadata: Type.Object({ powertrainType: Type.Optional(Type.String()), canProtocol: Type.Optional(Type.String()) }),
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
  },
);
export type UserDevice = Static<typeof UserDevice>;
