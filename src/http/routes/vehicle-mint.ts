// HTTP <-> VehicleMintService for GET/POST /v1/user/devices/{userDeviceId}/commands/mint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../errors.ts';
import { TransactionRequest, UserDeviceIdParams } from '../schemas.ts';
import type { VehicleMintService } from '../../services/vehicle-mint.ts';
import { sendOutcome, signatureText, typedDataPayload, unwrapSdkBody } from '../registry-command.ts';

const tags = ['vehicles'];
const security = [{ bearerAuth: [] }];

/** The `eth_signTypedData_v4` object for MintVehicleWithDeviceDefinitionSign (CHAIN.md §1). */
export const MintVehiclePayload = typedDataPayload(
  'MintVehicleWithDeviceDefinitionSign',
  {
    manufacturerNode: Type.String({ description: 'uint256 in decimal' }),
    owner: Type.String(),
    deviceDefinitionId: Type.String(),
    attributes: Type.Array(Type.String()),
    infos: Type.Array(Type.String()),
  },
  { $id: 'MintingPayload', description: 'EIP-712 typed data to sign with eth_signTypedData_v4 (MetaMask, viem, ethers sign it as-is)' },
);

const MintFields = {
  signature: Type.Optional(signatureText("The owner's 65-byte signature of the payload, 0x hex; v may be 0/1 or 27/28")),
  userSignature: Type.Optional(signatureText('Synonym of signature')),
  imageData: Type.Optional(Type.String({ description: 'Base64 PNG (≤ 1 MiB); checked, not stored: the NFT image is generated' })),
  imageDataTransparent: Type.Optional(Type.String({ description: 'Base64 PNG (≤ 1 MiB); checked, not stored' })),
};

const MintRequestBody = Type.Object(
  {
    ...MintFields,
    mintRequest: Type.Optional(Type.Object(MintFields, { description: '@dimo-network/data-sdk wraps the body in this' })),
  },
  { $id: 'MintingRequest' },
);

export const vehicleMintRoutes: FastifyPluginAsyncTypebox<{ mint: VehicleMintService }> = async (app, { mint }) => {

  app.get(
    '/v1/user/devices/:userDeviceId/commands/mint',
    {
      schema: {
        tags,
        security,
        operationId: 'getMintingPayload',
        summary: "EIP-712 MintVehicleWithDeviceDefinitionSign payload for the caller's wallet to sign",
        description: 'The typed data the vehicle owner signs (eth_signTypedData_v4) to mint the vehicle. Already minted or a mint under way → 409.',
        params: UserDeviceIdParams,
        response: { 200: MintVehiclePayload, ...errorResponses(400, 401, 404, 409, 503) },
      },
      config: { responseCache: { tables: ['user_devices', 'meta_transaction_requests', 'manufacturers'] } },
    },
    async (req) => mint.payload(req.user, req.params.userDeviceId),
  );

  app.post(
    '/v1/user/devices/:userDeviceId/commands/mint',
    {
      schema: {
        tags,
        security,
        operationId: 'signMintingPayload',
        summary: 'Mint the vehicle as an NFT with the owner signature (without one: the payload to sign, as GET)',
        description: 'With the owner signature of the payload: relays the mint and answers 202 with the transaction request. Without a signature (an empty body, as the data-sdk sends): the payload, as GET.',
        params: UserDeviceIdParams,
        body: MintRequestBody,
        response: { 200: MintVehiclePayload, 202: TransactionRequest, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req, reply) => sendOutcome(reply, await mint.submit(req.user, req.params.userDeviceId, unwrapSdkBody(req.body, 'mintRequest'))),
  );
};
