// HTTP <-> VehicleService for /v1/user/devices (register, fromvin, me, shared, delete).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { PageQuery, UserDevice, UserDeviceIdParams } from '../schemas.ts';
import type { VehicleService } from '../../services/vehicles.ts';

const DevicesList = Type.Object({
  userDevices: Type.Array(UserDevice),
  sharedDevices: Type.Array(UserDevice),
  nextCursor: Type.Optional(Type.String()),
});

const SingleDevice = Type.Object({ userDevice: UserDevice });

const tags = ['vehicles'];
const security = [{ bearerAuth: [] }];

export const vehicleRoutes: FastifyPluginAsyncTypebox<{ vehicles: VehicleService }> = async (app, { vehicles }) => {
  app.get(
    '/v1/user/devices/me',
    {
      schema: {
        tags,
        security,
        summary: 'Vehicles the caller registered or whose NFT the caller owns, newest first',
        querystring: PageQuery,
        response: { 200: DevicesList, ...errorResponses(400, 401) },
      },
      config: { responseCache: { tables: ['user_devices', 'nft_privileges', 'aftermarket_devices', 'meta_transaction_requests', 'synthetic_devices'] } },
    },
    async (req) => {
      const page = await vehicles.listMine(req.user, req.query.limit ?? 100, req.query.cursor);
      return { userDevices: page.items, sharedDevices: [], ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.get(
    '/v1/user/devices/shared',
    {
      schema: {
        tags,
        security,
        summary: 'Vehicles on which the caller holds an unexpired privilege',
        querystring: PageQuery,
        response: { 200: DevicesList, ...errorResponses(400, 401) },
      },
    },
    async (req) => {
      const page = await vehicles.listShared(req.user, req.query.limit ?? 100, req.query.cursor);
      return { userDevices: [], sharedDevices: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.post(
    '/v1/user/devices',
    {
      schema: {
        tags,
        security,
        summary: 'Register a vehicle by device definition id',
        body: Type.Object(
          {
            deviceDefinitionId: Type.String({ minLength: 1, maxLength: 200, description: 'Definition slug, e.g. ford_bronco_2021' }),
            countryCode: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 3166-1 alpha-3' }),
          },
        ),
        response: { 201: SingleDevice, ...errorResponses(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const userDevice = await vehicles.register(req.user, req.body);
      return reply.code(201).send({ userDevice });
    },
  );

  app.post(
    '/v1/user/devices/fromvin',
    {
      schema: {
        tags,
        security,
        summary: 'Register a vehicle from its VIN (decoded offline from NHTSA vPIC data)',
        body: Type.Object(
          {
            vin: Type.String({ minLength: 1, maxLength: 64 }),
            countryCode: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 3166-1 alpha-3' }),
            canProtocol: Type.Optional(Type.String({ maxLength: 16 })),
          },
        ),
        response: { 201: SingleDevice, ...errorResponses(400, 401, 409, 424) },
      },
    },
    async (req, reply) => {
      const userDevice = await vehicles.registerFromVin(req.user, req.body);
      return reply.code(201).send({ userDevice });
    },
  );

  app.delete(
    '/v1/user/devices/:userDeviceId',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a vehicle that is not minted (its documents are kept, unlinked)',
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
