// HTTP <-> VehicleService for /v1/user/devices (register, fromvin, me, shared, delete).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { CanProtocol, UNPAGED_VEHICLE_LIMIT, UserDevice, UserDeviceIdParams, VehiclePageQuery } from '../schemas.ts';
import type { VehicleService } from '../../services/vehicles.ts';

const DevicesList = Type.Object({
  userDevices: Type.Array(UserDevice),
  sharedDevices: Type.Array(UserDevice),
  nextCursor: Type.Optional(Type.String()),
}, { $id: 'UserDeviceList' });

const SingleDevice = Type.Object({ userDevice: UserDevice }, { $id: 'SingleUserDevice' });

const tags = ['vehicles'];
const security = [{ bearerAuth: [] }];

export const vehicleRoutes: FastifyPluginAsyncTypebox<{ vehicles: VehicleService }> = async (app, { vehicles }) => {
  const listed = (path: string, operationId: string, summary: string, mine: boolean) =>
    app.get(
      path,
      {
        schema: {
          tags,
          security,
          operationId,
          summary,
          description:
            `Without \`limit\`, the whole list up to ${UNPAGED_VEHICLE_LIMIT} vehicles, as the original API answered. When more remain, ` +
            'the x-next-cursor header (and a Link rel="next", and nextCursor in the body) says how to ask for the next page.',
          querystring: VehiclePageQuery,
          response: { 200: { ...DevicesList, headers: { 'x-next-cursor': { type: 'string' }, link: { type: 'string' } } }, ...errorResponses(400, 401) },
        },
        ...(mine
          ? {
              config: {
                responseCache: {
                  tables: ['user_devices', 'nft_privileges', 'aftermarket_devices', 'meta_transaction_requests', 'synthetic_devices', 'integrations'],
                  headers: ['x-next-cursor', 'link'],
                },
              },
            }
          : {}),
      },
      async (req, reply) => {
        const { limit, cursor } = req.query;
        const size = limit ?? UNPAGED_VEHICLE_LIMIT;
        const page = mine ? await vehicles.listMine(req.user, size, cursor) : await vehicles.listShared(req.user, size, cursor);
        if (page.nextCursor) {
          const next = new URLSearchParams({ ...(limit !== undefined ? { limit: String(limit) } : {}), cursor: page.nextCursor });
          reply.header('x-next-cursor', page.nextCursor).header('link', `<${path}?${next.toString()}>; rel="next"`);
        }
        const items = page.items;
        return { userDevices: mine ? items : [], sharedDevices: mine ? [] : items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      },
    );

  listed('/v1/user/devices/me', 'listMyVehicles', 'Vehicles the caller registered or whose NFT the caller owns, newest first', true);
  listed('/v1/user/devices/shared', 'listSharedVehicles', 'Vehicles on which the caller holds an unexpired privilege, newest first', false);

  app.post(
    '/v1/user/devices',
    {
      schema: {
        tags,
        security,
        operationId: 'createVehicle',
        summary: 'Register a vehicle by device definition id',
        description: 'Registers a vehicle for the caller from a device definition id (make_model_year slug). Unknown definition → 404.',
        body: Type.Object(
          {
            deviceDefinitionId: Type.String({ minLength: 1, maxLength: 200, description: 'Definition slug, e.g. ford_bronco_2021' }),
            countryCode: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 3166-1 alpha-3' }),
            canProtocol: Type.Optional(CanProtocol),
          },
          { $id: 'CreateVehicleRequest' },
        ),
        response: { 201: SingleDevice, ...errorResponses(400, 401, 404) },
      },
    },
    async (req, reply) => reply.code(201).send({ userDevice: await vehicles.register(req.user, req.body) }),
  );

  app.post(
    '/v1/user/devices/fromvin',
    {
      schema: {
        tags,
        security,
        operationId: 'createVehicleFromVin',
        summary: 'Register a vehicle from its VIN (decoded offline from NHTSA vPIC data)',
        description: 'Decodes the VIN offline (NHTSA vPIC data) to its device definition and registers the vehicle. A VIN another user registered → 409; a VIN that cannot be decoded → 424.',
        body: Type.Object(
          {
            vin: Type.String({ minLength: 1, maxLength: 64 }),
            countryCode: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 3166-1 alpha-3' }),
            canProtocol: Type.Optional(CanProtocol),
          },
          { $id: 'CreateVehicleFromVinRequest' },
        ),
        response: { 201: SingleDevice, ...errorResponses(400, 401, 409, 424) },
      },
    },
    async (req, reply) => reply.code(201).send({ userDevice: await vehicles.registerFromVin(req.user, req.body) }),
  );

  app.delete(
    '/v1/user/devices/:userDeviceId',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteVehicle',
        summary: 'Delete a vehicle that is not minted (its documents are kept, unlinked)',
        description: 'Deletes one of the caller’s vehicles. A minted vehicle (or one with a mint under way) → 409.',
        params: UserDeviceIdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (req, reply) => {
      await vehicles.remove(req.user, req.params.userDeviceId);
      return reply.code(204).send(null);
    },
  );
};
