// HTTP <-> PairingService: GET/POST /v1/user/devices/{userDeviceId}/aftermarket/commands/pair|unpair.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { badRequest } from '../../errors.ts';
import { errorResponses } from '../errors.ts';
import { TransactionRequest, UserDeviceIdParams } from '../schemas.ts';
import type { PairBody, PairingService, PairPayload, UnpairPayload } from '../../services/pairing.ts';
import { toTransactionRequest } from '../../services/transactions.ts';

const tags = ['aftermarket devices'];
const security = [{ bearerAuth: [] }];

const TypedField = Type.Object({ name: Type.String(), type: Type.String() });
const Domain = Type.Object({ name: Type.String(), version: Type.String(), chainId: Type.Integer(), verifyingContract: Type.String() });
const PairMessage = Type.Object({
  aftermarketDeviceNode: Type.String({ description: 'uint256 in decimal' }),
  vehicleNode: Type.String({ description: 'uint256 in decimal' }),
});

/** The `eth_signTypedData_v4` object for PairAftermarketDeviceSign (CHAIN.md §1). */
export const PairDevicePayload = Type.Object(
  {
    types: Type.Object({ EIP712Domain: Type.Array(TypedField), PairAftermarketDeviceSign: Type.Array(TypedField) }),
    primaryType: Type.Literal('PairAftermarketDeviceSign'),
    domain: Domain,
    message: PairMessage,
  },
  { $id: 'PairingPayload', description: 'EIP-712 typed data; the vehicle owner signs it as-is, and the device key too when the owners differ' },
);

/** The `eth_signTypedData_v4` object for UnPairAftermarketDeviceSign (capital P, as the registry spells it). */
export const UnpairDevicePayload = Type.Object(
  {
    types: Type.Object({ EIP712Domain: Type.Array(TypedField), UnPairAftermarketDeviceSign: Type.Array(TypedField) }),
    primaryType: Type.Literal('UnPairAftermarketDeviceSign'),
    domain: Domain,
    message: PairMessage,
  },
  { $id: 'UnpairingPayload', description: 'EIP-712 typed data; the vehicle owner or the device owner signs it as-is' },
);

const SerialText = Type.String({ minLength: 1, maxLength: 256, description: 'Device serial (trimmed; UUID serials in any case)' });

const PairQuery = Type.Object(
  {
    serial: Type.Optional(SerialText),
    external_id: Type.Optional({ ...SerialText, description: 'Synonym of serial (the original API’s name)' }),
  },
);

const signatureText = (description: string) => Type.String({ maxLength: 1024, description });

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

/** `a` unless it is absent, else `b`; both given and different is a 400 naming them. */
function alias(body: Record<string, string | undefined>, a: string, b: string): string | undefined {
  const x = body[a];
  const y = body[b];
  if (x !== undefined && y !== undefined && x !== y) {
    throw badRequest(`${b} is a synonym of ${a}; send one of them, not two different values.`);
  }
  return x ?? y;
}

function toPairBody(body: Static<typeof PairRequestBody>): PairBody {
  return {
    userSignature: alias(body, 'userSignature', 'signature'),
    aftermarketDeviceSignature: body.aftermarketDeviceSignature,
    serial: alias(body, 'serial', 'externalId'),
  };
}

const copyFields = (fields: readonly { name: string; type: string }[]) => fields.map((f) => ({ name: f.name, type: f.type }));

function pairResponse(p: PairPayload): Static<typeof PairDevicePayload> {
  return {
    types: { EIP712Domain: copyFields(p.types.EIP712Domain), PairAftermarketDeviceSign: copyFields(p.types.PairAftermarketDeviceSign) },
    primaryType: p.primaryType,
    domain: { ...p.domain },
    message: { ...p.message },
  };
}

function unpairResponse(p: UnpairPayload): Static<typeof UnpairDevicePayload> {
  return {
    types: { EIP712Domain: copyFields(p.types.EIP712Domain), UnPairAftermarketDeviceSign: copyFields(p.types.UnPairAftermarketDeviceSign) },
    primaryType: p.primaryType,
    domain: { ...p.domain },
    message: { ...p.message },
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
    async (req) => pairResponse(await pairing.pairPayload(req.user, req.params.userDeviceId, alias(req.query, 'serial', 'external_id'))),
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
    async (req) => unpairResponse(await pairing.unpairPayload(req.user, req.params.userDeviceId)),
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
