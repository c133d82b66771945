// HTTP <-> SharingService: …/commands/share, …/commands/unshare (GET payload, POST signed) and …/shares.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { getAddress } from 'viem';
import { errorResponses } from '../errors.ts';
import { Address, Timestamp, TransactionRequest, UserDeviceIdParams } from '../schemas.ts';
import type { SharingService } from '../../services/sharing.ts';
import { sendOutcome, signatureText, typedDataPayload } from '../registry-command.ts';

const tags = ['sharing'];
const checksum = (a: string) => getAddress(a) as string;
const security = [{ bearerAuth: [] }];

/** The `eth_signTypedData_v4` object for SetPrivilegesSign (issue 14). */
export const SetPrivilegesPayload = typedDataPayload(
  'SetPrivilegesSign',
  {
    tokenId: Type.String({ description: 'uint256 in decimal' }),
    privIds: Type.Array(Type.String({ description: 'uint256 in decimal' })),
    user: Type.String({ description: 'The grantee' }),
    expires: Type.String({ description: 'Unix seconds; 0 revokes' }),
    nonce: Type.String({ description: "The vehicle NFT's privilegeNonce(tokenId, user) now" }),
  },
  { $id: 'SetPrivilegesPayload', description: 'EIP-712 typed data to sign with eth_signTypedData_v4' },
);

// Strings, validated by the service, so that each bad field gets a 400 naming it.
const GranteeField = Type.String({ maxLength: 100, description: 'Address that receives the privileges' });
const PrivilegesQuery = Type.String({ maxLength: 200, description: 'Privilege ids, comma-separated (GET /v1/privileges), e.g. 1,3' });
const PrivilegesBody = Type.Array(Type.Union([Type.Integer(), Type.String({ maxLength: 20 })]), { maxItems: 50, description: 'Privilege ids' });
const ExpiresAtField = Type.String({ maxLength: 64, description: 'RFC 3339; in the future and at most SHARE_MAX_DAYS ahead' });
const SignatureField = signatureText("The vehicle owner's signature of the payload, 0x hex");

const ShareQuery = Type.Object({ grantee: GranteeField, privileges: PrivilegesQuery, expiresAt: ExpiresAtField });
const ShareBody = Type.Object(
  { grantee: GranteeField, privileges: PrivilegesBody, expiresAt: ExpiresAtField, signature: Type.Optional(SignatureField) },
  { $id: 'SharingRequest' },
);
const UnshareQuery = Type.Object({ grantee: GranteeField, privileges: Type.Optional(PrivilegesQuery) });
const UnshareBody = Type.Object(
  { grantee: GranteeField, privileges: Type.Optional(PrivilegesBody), signature: Type.Optional(SignatureField) },
  { $id: 'UnsharingRequest' },
);

export const GrantedPrivilege = Type.Object({ id: Type.Integer(), name: Type.String(), expiresAt: Timestamp });

const SharesList = Type.Object({
  shares: Type.Array(
    Type.Object({
      grantee: Address,
      privileges: Type.Array(GrantedPrivilege),
      status: Type.Union([Type.Literal('Pending'), Type.Literal('Active'), Type.Literal('Expired'), Type.Literal('Revoked'), Type.Literal('Failed')]),
      requestId: Type.Union([Type.String(), Type.Null()], { description: 'The relayed request; null for a grant made on chain directly' }),
    }),
  ),
}, { $id: 'ShareList' });

export const sharingRoutes: FastifyPluginAsyncTypebox<{ sharing: SharingService }> = async (app, { sharing }) => {
  const errors = errorResponses(400, 401, 404, 409, 503);

  for (const action of ['grant', 'revoke'] as const) {
    const path = `/v1/user/devices/:userDeviceId/commands/${action === 'grant' ? 'share' : 'unshare'}`;
    const what = action === 'grant' ? 'share the vehicle with an address' : "revoke an address's privileges (expires 0)";
    const name = action === 'grant' ? 'Sharing' : 'Unsharing';
    app.get(
      path,
      {
        schema: {
          tags,
          security,
          operationId: `get${name}Payload`,
          summary: `EIP-712 SetPrivilegesSign payload to ${what}`,
          description: "The payload carries the vehicle NFT's current privilegeNonce for the grantee, so a signature works once; sign it as-is and POST it to the same path.",
          params: UserDeviceIdParams,
          querystring: action === 'grant' ? ShareQuery : UnshareQuery,
          response: { 200: SetPrivilegesPayload, ...errors },
        },
      },
      async (req) => sharing.payload(req.user, req.params.userDeviceId, req.query, action),
    );
    app.post(
      path,
      {
        schema: {
          tags,
          security,
          operationId: `sign${name}Payload`,
          summary: `With the owner's signature, ${what} (relayed, no gas); without one, the payload to sign`,
          description: 'The signature must recover to the vehicle NFT owner (ECDSA or ERC-1271) over the payload with the current nonce; a replayed or stale one is a 400. 409 while a change for the same grantee is in flight.',
          params: UserDeviceIdParams,
          body: action === 'grant' ? ShareBody : UnshareBody,
          response: { 200: SetPrivilegesPayload, 202: TransactionRequest, ...errors },
        },
      },
      async (req, reply) => sendOutcome(reply, await sharing.submit(req.user, req.params.userDeviceId, req.body, action)),
    );
  }

  app.get(
    '/v1/user/devices/:userDeviceId/shares',
    {
      schema: {
        tags,
        security,
        operationId: 'listVehicleShares',
        summary: 'Who the vehicle is shared with: pending, active, and (for 30 days) expired, revoked or failed shares',
        description: 'From the indexed PrivilegeSet events and the relayed requests in flight; expiry is checked at read time.',
        params: UserDeviceIdParams,
        response: { 200: SharesList, ...errorResponses(400, 401, 404) },
      },
      // No response cache: a share's expiry is checked at read time.
    },
    async (req) => {
      const shares = await sharing.list(req.user, req.params.userDeviceId);
      return { shares: shares.map((s) => ({ ...s, grantee: checksum(s.grantee) })) };
    },
  );
};
