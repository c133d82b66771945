// HTTP <-> SyntheticDeviceService: GET/POST
// /v1/user/devices/{userDeviceId}/integrations/{integrationTokenId}/commands/mint.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { badRequest } from '../../errors.ts';
import { Ksuid, TokenIdParam } from '../schemas.ts';
import type { SyntheticDeviceService } from '../../services/synthetic-devices.ts';
import { alias, commandSchemas, sendOutcome, signatureText, typedDataPayload } from '../registry-command.ts';

const tags = ['vehicles'];
const MAX_UINT256 = (1n << 256n) - 1n;

const Params = Type.Object({ userDeviceId: Ksuid, integrationTokenId: TokenIdParam });

/** The `eth_signTypedData_v4` object for MintSyntheticDeviceSign (CHAIN.md §1). */
export const MintSyntheticPayload = typedDataPayload(
  'MintSyntheticDeviceSign',
  {
    integrationNode: Type.String({ description: 'uint256 in decimal' }),
    vehicleNode: Type.String({ description: 'uint256 in decimal' }),
  },
  { $id: 'SyntheticDeviceMintingPayload', description: "EIP-712 typed data; the vehicle owner signs it as-is (the synthetic device's wallet signs it on the server)" },
);

const MintSyntheticBody = Type.Object(
  {
    signature: Type.Optional(signatureText("The vehicle owner's 65-byte signature of the payload, 0x hex; v may be 0/1 or 27/28")),
    userSignature: Type.Optional(signatureText('Synonym of signature')),
  },
  { $id: 'SyntheticDeviceMintingRequest' },
);

function tokenId(raw: string): bigint {
  const n = BigInt(raw);
  if (n > MAX_UINT256) throw badRequest('params/integrationTokenId is larger than a uint256.');
  return n;
}

const schemas = commandSchemas('SyntheticDeviceMinting', { tags, params: Params, body: MintSyntheticBody, payload: MintSyntheticPayload }, {
  get: { summary: 'EIP-712 MintSyntheticDeviceSign payload for the vehicle owner to sign', description: 'The typed data the vehicle owner signs to mint a synthetic device for the vehicle and integration. Not minted yet, or one exists already → 409.' },
  post: { summary: "Mint a synthetic device for the vehicle and integration with the owner's signature (without one: the payload, as GET)", description: 'With the owner signature: relays the mint and answers 202 with the transaction request. Without one: the payload, as GET.' },
});

export const syntheticDeviceRoutes: FastifyPluginAsyncTypebox<{ synthetic: SyntheticDeviceService }> = async (app, { synthetic }) => {

  const path = '/v1/user/devices/:userDeviceId/integrations/:integrationTokenId/commands/mint';

  app.get(path, { schema: schemas.get }, async (req) => synthetic.payload(req.user, req.params.userDeviceId, tokenId(req.params.integrationTokenId)));
  app.post(path, { schema: schemas.post }, async (req, reply) =>
    sendOutcome(reply, await synthetic.mint(req.user, req.params.userDeviceId, tokenId(req.params.integrationTokenId), alias(req.body, 'signature', 'userSignature'))),
  );
};
