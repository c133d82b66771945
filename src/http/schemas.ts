// Shared TypeBox schemas: one definition drives validation, the TS types, serialization and
// the OpenAPI document.
import { Type, type Static } from 'typebox';

// The API views services answer with live in the domain (services may not import HTTP); the routes use them from here.
export { AftermarketDeviceInfo, Address, Nullable, Timestamp, TokenIdJson, TransactionRequest, TransactionStatusName, UpdateTask, UserDevice } from '../domain/views.ts';

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

