// HTTP <-> aftermarket device services: GET /v1/aftermarket/device/by-serial/{serial}, the claim
// payload and claim, and (development only) unclaim.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { AftermarketDeviceInfo, TransactionRequest } from '../schemas.ts';
import type { AftermarketDeviceService } from '../../services/aftermarket-devices.ts';
import type { ClaimService } from '../../services/claim.ts';
import { toTransactionRequest } from '../../domain/views.ts';
import { commandSchemas, sdkWrappedBody, sendOutcome, signatureText, typedDataPayload, unwrapSdkBody } from '../registry-command.ts';
import { SerialParam } from './firmware.ts';

const tags = ['aftermarket devices'];
const security = [{ bearerAuth: [] }];
const SerialParams = Type.Object({ serial: SerialParam });

/** The `eth_signTypedData_v4` object for ClaimAftermarketDeviceSign (CHAIN.md §1). */
export const ClaimDevicePayload = typedDataPayload(
  'ClaimAftermarketDeviceSign',
  { aftermarketDeviceNode: Type.String({ description: 'uint256 in decimal' }), owner: Type.String() },
  { $id: 'ClaimingPayload', description: 'EIP-712 typed data; the caller’s wallet and the device key both sign it as-is' },
);

const ClaimFields = {
  userSignature: Type.Optional(signatureText("Your wallet's 65-byte signature of the payload, 0x hex; v may be 0/1 or 27/28")),
  aftermarketDeviceSignature: Type.Optional(signatureText("The device key's 65-byte signature of the same payload")),
};
const ClaimRequestBody = sdkWrappedBody(ClaimFields, 'claimRequest', 'ClaimingRequest');

const claimSchemas = commandSchemas('Claiming', { tags, params: SerialParams, body: ClaimRequestBody, payload: ClaimDevicePayload }, {
  get: { summary: 'EIP-712 ClaimAftermarketDeviceSign payload for the caller’s wallet (and the device key) to sign', description: 'The typed data the new owner and the device key both sign to claim the device. Already claimed → 409.' },
  post: { summary: 'Claim the device with both signatures (without any: the payload to sign, as GET)', description: 'With both signatures: relays the claim and answers 202 with the transaction request. Without any (an empty body, as the data-sdk sends): the payload, as GET.' },
});

export interface AftermarketDeviceRoutesOptions {
  devices: AftermarketDeviceService;
  /** Absent without a chain: the claim routes need one. */
  claim?: ClaimService;
  /** Registers POST …/commands/unclaim (never in production mode). */
  unclaimRoute: boolean;
}

export const aftermarketDeviceRoutes: FastifyPluginAsyncTypebox<AftermarketDeviceRoutesOptions> = async (app, opts) => {
  const { devices, claim } = opts;

  app.get(
    '/v1/aftermarket/device/by-serial/:serial',
    {
      schema: {
        tags,
        security,
        operationId: 'getAftermarketDeviceBySerial',
        summary: 'An aftermarket device by serial: readable by anyone while unclaimed and unpaired, then by its owner or its vehicle’s owner',
        description: 'The device’s token id, address, manufacturer, owner, pairing and firmware.',
        params: SerialParams,
        response: { 200: AftermarketDeviceInfo, ...errorResponses(400, 401, 404) },
      },
      config: { responseCache: { tables: ['aftermarket_devices', 'meta_transaction_requests', 'firmware_update_tasks', 'user_devices'] } },
    },
    async (req) => devices.info(req.user, req.params.serial),
  );

  if (!claim) return;

  const claimPath = '/v1/aftermarket/device/by-serial/:serial/commands/claim';
  app.get(claimPath, { schema: claimSchemas.get }, async (req) => claim.payload(req.user, req.params.serial));
  app.post(claimPath, { schema: claimSchemas.post }, async (req, reply) =>
    sendOutcome(reply, await claim.submit(req.user, req.params.serial, unwrapSdkBody(req.body, 'claimRequest'))),
  );

  if (!opts.unclaimRoute) return;

  app.post(
    '/v1/aftermarket/device/by-serial/:serial/commands/unclaim',
    {
      schema: {
        tags,
        security,
        operationId: 'unclaimAftermarketDevice',
        summary: 'Development only: the owner returns the device to its manufacturer so it can be claimed again',
        description: 'Not present in production mode. Relays the return and answers 202 with the transaction request.',
        params: SerialParams,
        response: { 202: TransactionRequest, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req, reply) => reply.code(202).send(toTransactionRequest(await claim.unclaim(req.user, req.params.serial))),
  );
};
