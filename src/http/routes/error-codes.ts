// HTTP <-> ErrorCodeService for /v1/user/devices/{userDeviceId}/error-codes (API.md §4).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { badRequest } from '../../errors.ts';
import { errorResponses } from '../errors.ts';
import { PageQuery, Timestamp, UserDeviceIdParams } from '../schemas.ts';
import type { ErrorCodeService } from '../../services/error-codes.ts';

// Entries stay unknown here so parseDtcList can name the exact bad entry in its message.
const CodeList = Type.Array(Type.Unknown(), {
  description: 'SAE J2012 codes such as "P0106" or "P0106-1C" (any case); at most 100; blank entries are dropped',
});
// One object with both forms optional rather than a union: a union's validation errors list
// every branch ("unknown field errorCodes") and hide the one field that is actually wrong.
const SubmitBody = Type.Object(
  {
    errorCodes: Type.Optional(CodeList),
    queryDeviceErrorCodes: Type.Optional(
      Type.Object({ errorCodes: CodeList }, { description: 'The wrapped form @dimo-network/data-sdk sends' }),
    ),
  },
  { $id: 'SubmitErrorCodesRequest', description: 'Either errorCodes or queryDeviceErrorCodes.errorCodes' },
);

function codesFrom(body: Static<typeof SubmitBody>): unknown[] {
  const { errorCodes, queryDeviceErrorCodes } = body;
  if (errorCodes !== undefined && queryDeviceErrorCodes !== undefined) {
    throw badRequest('Send either "errorCodes" or "queryDeviceErrorCodes", not both.');
  }
  const codes = errorCodes ?? queryDeviceErrorCodes?.errorCodes;
  if (codes === undefined) throw badRequest('body is missing required field "errorCodes".');
  return codes;
}

const ErrorCodeEntry = Type.Object({
  code: Type.String({ description: 'Normalised code, e.g. P0106 or P0106-1C' }),
  description: Type.String(),
  system: Type.Union([Type.Literal('Powertrain'), Type.Literal('Chassis'), Type.Literal('Body'), Type.Literal('Network')]),
  definedBy: Type.Union([Type.Literal('SAE'), Type.Literal('Manufacturer')]),
  subsystem: Type.String(),
  explanation: Type.Optional(Type.String({ description: 'Longer text from the optional enrichment provider (addition)' })),
});

const ErrorCodesResult = Type.Object({
  errorCodes: Type.Array(ErrorCodeEntry),
  clearedAt: Type.Union([Timestamp, Type.Null()]),
}, { $id: 'ErrorCodesResult' });

const QueryHistory = Type.Object({
  queries: Type.Array(
    Type.Object({
      id: Type.String(),
      errorCodes: Type.Array(ErrorCodeEntry),
      requestedAt: Timestamp,
      clearedAt: Type.Union([Timestamp, Type.Null()]),
    }),
  ),
  nextCursor: Type.Optional(Type.String()),
}, { $id: 'ErrorCodeHistory' });

const tags = ['error codes'];
const security = [{ bearerAuth: [] }];

export const errorCodeRoutes: FastifyPluginAsyncTypebox<{ errorCodes: ErrorCodeService }> = async (app, { errorCodes }) => {
  app.post(
    '/v1/user/devices/:userDeviceId/error-codes',
    {
      schema: {
        tags,
        security,
        operationId: 'submitErrorCodes',
        summary: "Describe a vehicle's diagnostic trouble codes and keep them in its history",
        description: 'Takes SAE J2012 codes (or the data-sdk’s wrapped form), answers each with its description, system and subsystem, and stores the query in the vehicle’s history.',
        params: UserDeviceIdParams,
        body: SubmitBody,
        response: { 200: ErrorCodesResult, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => errorCodes.submit(req.user, req.params.userDeviceId, codesFrom(req.body)),
  );

  app.get(
    '/v1/user/devices/:userDeviceId/error-codes',
    {
      schema: {
        tags,
        security,
        operationId: 'listErrorCodes',
        summary: "A vehicle's submitted error codes, newest first",
        description:
          'The vehicle’s stored error-code queries, newest first, each with when it was cleared (if it was). ' +
          'Readable by the owner and by a grantee holding privilege 1 (VEHICLE_NON_LOCATION_DATA); a grantee holding only other ' +
          'privileges gets a 403 naming privilege 1, and anyone holding none gets the 404 of a vehicle that does not exist.',
        params: UserDeviceIdParams,
        querystring: PageQuery,
        response: { 200: QueryHistory, ...errorResponses(400, 401, 403, 404) },
      },
      // New codes are not announced (see drizzle/0003_change_notify.sql), nor is a privilege passing
      // its expiry: another replica's answer, or a grantee's after expiry, may lag ≤ 2 s.
      config: { responseCache: { tables: ['user_devices', 'nft_privileges'], ttlMs: 2000 } },
    },
    async (req) => {
      const page = await errorCodes.history(req.user, req.params.userDeviceId, req.query.limit ?? 100, req.query.cursor);
      return { queries: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.post(
    '/v1/user/devices/:userDeviceId/error-codes/clear',
    {
      schema: {
        tags,
        security,
        operationId: 'clearErrorCodes',
        summary: 'Mark the most recent error codes of a vehicle as cleared (bookkeeping only)',
        description: 'Marks the latest query as cleared; it sends nothing to the vehicle. Nothing to clear, or already cleared → 409.',
        params: UserDeviceIdParams,
        response: { 200: ErrorCodesResult, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (req) => errorCodes.clearLatest(req.user, req.params.userDeviceId),
  );
};
