// HTTP <-> FirmwareUpdateService: POST /v1/aftermarket/device/by-serial/{serial}/update and
// GET …/update/{taskId}.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { Ksuid, UpdateTask } from '../schemas.ts';
import type { FirmwareUpdateService } from '../../services/firmware-updates.ts';

const tags = ['aftermarket devices'];
const security = [{ bearerAuth: [] }];

export const SerialParam = Type.String({ minLength: 1, maxLength: 256, description: 'Device serial (trimmed; UUID serials are case-insensitive)' });

const EmptyBody = Type.Object({}, { $id: 'FirmwareUpdateRequest', description: 'No fields: send no body' });

export const firmwareRoutes: FastifyPluginAsyncTypebox<{ firmware: FirmwareUpdateService }> = async (app, { firmware }) => {

  app.post(
    '/v1/aftermarket/device/by-serial/:serial/update',
    {
      schema: {
        tags,
        security,
        operationId: 'requestFirmwareUpdate',
        summary: "Request a firmware update through the manufacturer's device cloud (owner or paired vehicle's owner)",
        description: 'Already on the latest release → 200 with status Succeeded; otherwise 202 with the new task (or the one already under way). No connector configured for the manufacturer → 501.',
        params: Type.Object({ serial: SerialParam }),
        body: EmptyBody,
        response: { 200: UpdateTask, 202: UpdateTask, ...errorResponses(400, 401, 404, 409, 424, 501, 502, 503, 504) },
      },
    },
    async (req, reply) => {
      const { created, task } = await firmware.request(req.user, req.params.serial);
      return reply.code(created ? 202 : 200).send(task);
    },
  );

  app.get(
    '/v1/aftermarket/device/by-serial/:serial/update/:taskId',
    {
      schema: {
        tags,
        security,
        operationId: 'getFirmwareUpdate',
        summary: 'A firmware update task; an unfinished one is polled from the device cloud',
        description: 'A firmware update task by id; while unfinished, its state is fetched from the manufacturer’s device cloud.',
        params: Type.Object({ serial: SerialParam, taskId: Ksuid }),
        response: { 200: UpdateTask, ...errorResponses(400, 401, 404) },
      },
    },
    async (req) => firmware.get(req.user, req.params.serial, req.params.taskId),
  );
};
