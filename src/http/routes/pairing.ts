// HTTP <-> PairingService: GET/POST /v1/user/devices/{userDeviceId}/aftermarket/commands/pair|unpair.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { errorResponses } from '../errors.ts';
import { TransactionRequest, UserDeviceIdParams } from '../schemas.ts';
import type { PairBody, PairingService } from '../../services/pairing.ts';
import { toTransactionRequest } from '../../domain/views.ts';
import { alias, signatureText, typedDataPayload } from '../registry-command.ts';

const tags = ['aftermarket devices'];
const security = [{ bearerAuth: [] }];

const PairMessage = {
  aftermarketDeviceNode: Type.String({ description: 'uint256 in decimal' }),
  vehicleNode: Type.String({ description: 'uint256 in decimal' }),
};

/** The `eth_signTypedData_v4` object for PairAftermarketDeviceSign (CHAIN.md §1). */
export const PairDevicePayload = typedDataPayload('PairAftermarketDeviceSign', PairMessage, {
  $id: 'PairingPayload',
  description: 'EIP-712 typed data; the vehicle owner signs it as-is, and the device key too when the owners differ',
});

/** The `eth_signTypedData_v4` object for UnPairAftermarketDeviceSign (capital P, as the registry spells it). */
export const UnpairDevicePayload = typedDataPayload('UnPairAftermarketDeviceSign', PairMessage, {
  $id: 'UnpairingPayload',
  description: 'EIP-712 typed data; the vehicle owner or the device owner signs it as-is',
});

const SerialText = Type.String({ minLength: 1, maxLength: 256, description: 'Device serial (trimmed; UUID serials in any case)' });

const PairQuery = Type.Object(
  {
    serial: Type.Optional(SerialText),
    external_id: Type.Optional({ ...SerialText, description: 'Synonym of serial (the original API’s name)' }),
  },
);

const PairRequestBody = Type.Object(
  {
    userSignature: Type.Optional(signatureText("The vehicle owner's 65-byte signature of the payload, 0x hex; v may be 0/1 or 27/28")),
    signature: Type.Optional(signatureText('Synonym of userSignature')),
    aftermarketDeviceSignature: Type.Optional(signatureText("The device key's signature of the same payload; required when the device and vehicle owners differ")),
    serial: Type.Optional(SerialText),
    externalId: Type.Optional({ ...SerialText, description: 'Synonym of serial' }),
  },
  { $id: 'PairingRequest' },
);

const UnpairRequestBody = Type.Object(
  {
    userSignature: Type.Optional(signatureText("The vehicle owner's or the device owner's 65-byte signature of the payload")),
    signature: Type.Optional(signatureText('Synonym of userSignature')),
    serial: Type.Optional({ ...SerialText, description: 'Optional: the paired device, as a check (another device → 409)' }),
    externalId: Type.Optional({ ...SerialText, description: 'Synonym of serial (the original API’s name)' }),
  },
  { $id: 'UnpairingRequest' },
);

function toPairBody(body: Static<typeof PairRequestBody>): PairBody {
  return {
    userSignature: alias(body, 'userSignature', 'signature'),
    aftermarketDeviceSignature: body.aftermarketDeviceSignature,
    serial: alias(body, 'serial', 'externalId'),
  };
}

export const pairingRoutes: FastifyPluginAsyncTypebox<{ pairing: PairingService }> = async (app, { pairing }) => {
  app.get(
    '/v1/user/devices/:userDeviceId/aftermarket/commands/pair',
    {
      schema: {
        tags,
        security,
        operationId: 'getPairingPayload',
        summary: 'EIP-712 PairAftermarketDeviceSign payload: the named device (?serial=), else your one claimed, unpaired device',
        description: 'The typed data to sign to pair an aftermarket device with the vehicle. Already paired → 409.',
        params: UserDeviceIdParams,
        querystring: PairQuery,
        response: { 200: PairDevicePayload, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req) => pairing.pairPayload(req.user, req.params.userDeviceId, alias(req.query, 'serial', 'external_id')),
  );

  app.post(
    '/v1/user/devices/:userDeviceId/aftermarket/commands/pair',
    {
      schema: {
        tags,
        security,
        operationId: 'signPairingPayload',
        summary: "Pair an aftermarket device with the vehicle: the vehicle owner's signature, plus the device's when the owners differ",
        description: 'Relays the pairing with the signatures (checked against the chain) and answers 202 with the transaction request.',
        params: UserDeviceIdParams,
        body: PairRequestBody,
        response: { 202: TransactionRequest, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req, reply) => reply.code(202).send(toTransactionRequest(await pairing.pair(req.user, req.params.userDeviceId, toPairBody(req.body)))),
  );

  app.get(
    '/v1/user/devices/:userDeviceId/aftermarket/commands/unpair',
    {
      schema: {
        tags,
        security,
        operationId: 'getUnpairingPayload',
        summary: 'EIP-712 UnPairAftermarketDeviceSign payload for the device paired with the vehicle',
        description: 'The typed data to sign to unpair the device paired with the vehicle. Not paired → 409.',
        params: UserDeviceIdParams,
        response: { 200: UnpairDevicePayload, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req) => pairing.unpairPayload(req.user, req.params.userDeviceId),
  );

  app.post(
    '/v1/user/devices/:userDeviceId/aftermarket/commands/unpair',
    {
      schema: {
        tags,
        security,
        operationId: 'signUnpairingPayload',
        summary: "Unpair the vehicle's aftermarket device, signed by the vehicle owner or the device owner",
        description: 'Relays the unpairing with the signature and answers 202 with the transaction request.',
        params: UserDeviceIdParams,
        body: UnpairRequestBody,
        response: { 202: TransactionRequest, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req, reply) =>
      reply
        .code(202)
        .send(
          toTransactionRequest(
            await pairing.unpair(req.user, req.params.userDeviceId, alias(req.body, 'userSignature', 'signature'), alias(req.body, 'serial', 'externalId')),
          ),
        ),
  );
};
