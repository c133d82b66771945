// HTTP <-> VehicleMintService for GET/POST /v1/user/devices/{userDeviceId}/commands/mint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { UserDeviceIdParams } from '../schemas.ts';
import type { VehicleMintService } from '../../services/vehicle-mint.ts';
import { commandSchemas, sdkWrappedBody, sendOutcome, signatureText, typedDataPayload, unwrapSdkBody } from '../registry-command.ts';

const tags = ['vehicles'];

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

const MintRequestBody = sdkWrappedBody(MintFields, 'mintRequest', 'MintingRequest');

const schemas = commandSchemas('Minting', { tags, params: UserDeviceIdParams, body: MintRequestBody, payload: MintVehiclePayload }, {
  get: { summary: "EIP-712 MintVehicleWithDeviceDefinitionSign payload for the caller's wallet to sign", description: 'The typed data the vehicle owner signs (eth_signTypedData_v4) to mint the vehicle. Already minted or a mint under way → 409.' },
  post: { summary: 'Mint the vehicle as an NFT with the owner signature (without one: the payload to sign, as GET)', description: 'With the owner signature of the payload: relays the mint and answers 202 with the transaction request. Without a signature (an empty body, as the data-sdk sends): the payload, as GET.' },
});

export const vehicleMintRoutes: FastifyPluginAsyncTypebox<{ mint: VehicleMintService }> = async (app, { mint }) => {
  const path = '/v1/user/devices/:userDeviceId/commands/mint';
  app.get(
    path,
    { schema: schemas.get, config: { responseCache: { tables: ['user_devices', 'meta_transaction_requests', 'manufacturers'] } } },
    async (req) => mint.payload(req.user, req.params.userDeviceId),
  );
  app.post(path, { schema: schemas.post }, async (req, reply) =>
    sendOutcome(reply, await mint.submit(req.user, req.params.userDeviceId, unwrapSdkBody(req.body, 'mintRequest'))),
  );
};
