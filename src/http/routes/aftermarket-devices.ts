// HTTP <-> aftermarket device services: GET /v1/aftermarket/device/by-serial/{serial}, the claim
// payload and claim, and (development only) unclaim.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { errorResponses } from '../errors.ts';
import { Address, Nullable, TokenIdJson, Timestamp, TransactionRequest } from '../schemas.ts';
import type { AftermarketDeviceService } from '../../services/aftermarket-devices.ts';
import type { ClaimBody, ClaimPayload, ClaimService } from '../../services/claim.ts';
import { toTransactionRequest } from '../../services/transactions.ts';
import { SerialParam, UpdateTask } from './firmware.ts';

const tags = ['aftermarket devices'];
const security = [{ bearerAuth: [] }];
const SerialParams = Type.Object({ serial: SerialParam });

const TransactionStatus = Nullable(TransactionRequest);

export const AftermarketDeviceInfo = Type.Object({
  serial: Type.String(),
  unitId: Type.String({ description: 'Same as serial (the original API’s name)' }),
  tokenId: TokenIdJson,
  ethereumAddress: Address,
  ownerAddress: Nullable(Address),
  beneficiaryAddress: Nullable(Address),
  manufacturer: Type.Object({ tokenId: Nullable(TokenIdJson), name: Nullable(Type.String()) }),
  vehicleTokenId: Nullable(TokenIdJson),
  userDeviceId: Nullable(Type.String({ description: "The caller's vehicle the device is paired with" })),
  claim: TransactionStatus,
  pair: TransactionStatus,
  unpair: TransactionStatus,
  firmware: Type.Object({
    releaseVersion: Nullable(Type.String()),
    lastSeenAt: Nullable(Timestamp),
    update: Nullable(UpdateTask),
  }),
  isUpdated: Nullable(Type.Boolean({ description: "The original API's field: the device runs the latest release the manufacturer's cloud last offered; null when unknown" })),
  shouldUpdate: Nullable(Type.Boolean({ description: 'Not updated and no update under way; null when unknown' })),
  releaseVersion: Nullable(Type.String({ description: 'The firmware version the device last reported (as firmware.releaseVersion)' })),
  deviceName: Nullable(Type.String({ description: 'The three-word device name of its NFT metadata' })),
}, { $id: 'AftermarketDevice' });

const TypedField = Type.Object({ name: Type.String(), type: Type.String() });

/** The `eth_signTypedData_v4` object for ClaimAftermarketDeviceSign (CHAIN.md §1). */
export const ClaimDevicePayload = Type.Object(
  {
    types: Type.Object({ EIP712Domain: Type.Array(TypedField), ClaimAftermarketDeviceSign: Type.Array(TypedField) }),
    primaryType: Type.Literal('ClaimAftermarketDeviceSign'),
    domain: Type.Object({ name: Type.String(), version: Type.String(), chainId: Type.Integer(), verifyingContract: Type.String() }),
    message: Type.Object({ aftermarketDeviceNode: Type.String({ description: 'uint256 in decimal' }), owner: Type.String() }),
  },
  { $id: 'ClaimingPayload', description: 'EIP-712 typed data; the caller’s wallet and the device key both sign it as-is' },
);

const signatureText = (description: string) => Type.String({ maxLength: 1024, description });
const ClaimFields = {
  userSignature: Type.Optional(signatureText("Your wallet's 65-byte signature of the payload, 0x hex; v may be 0/1 or 27/28")),
  aftermarketDeviceSignature: Type.Optional(signatureText("The device key's 65-byte signature of the same payload")),
};
const ClaimRequestBody = Type.Object(
  {
    ...ClaimFields,
    claimRequest: Type.Optional(Type.Object(ClaimFields, { description: '@dimo-network/data-sdk wraps the body in this' })),
  },
  { $id: 'ClaimingRequest' },
);

function toResponse(p: ClaimPayload): Static<typeof ClaimDevicePayload> {
  return {
    types: {
      EIP712Domain: p.types.EIP712Domain.map((f) => ({ ...f })),
      ClaimAftermarketDeviceSign: p.types.ClaimAftermarketDeviceSign.map((f) => ({ ...f })),
    },
    primaryType: p.primaryType,
    domain: { ...p.domain },
    message: { ...p.message },
  };
}

function unwrap(body: Static<typeof ClaimRequestBody>): ClaimBody {
  const { claimRequest, ...rest } = body;
  return { ...rest, ...claimRequest };
}

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

  app.get(
    '/v1/aftermarket/device/by-serial/:serial/commands/claim',
    {
      schema: {
        tags,
        security,
        operationId: 'getClaimingPayload',
        summary: 'EIP-712 ClaimAftermarketDeviceSign payload for the caller’s wallet (and the device key) to sign',
        description: 'The typed data the new owner and the device key both sign to claim the device. Already claimed → 409.',
        params: SerialParams,
        response: { 200: ClaimDevicePayload, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req) => toResponse(await claim.payload(req.user, req.params.serial)),
  );

  app.post(
    '/v1/aftermarket/device/by-serial/:serial/commands/claim',
    {
      schema: {
        tags,
        security,
        operationId: 'signClaimingPayload',
        summary: 'Claim the device with both signatures (without any: the payload to sign, as GET)',
        description: 'With both signatures: relays the claim and answers 202 with the transaction request. Without any (an empty body, as the data-sdk sends): the payload, as GET.',
        params: SerialParams,
        body: ClaimRequestBody,
        response: { 200: ClaimDevicePayload, 202: TransactionRequest, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (req, reply) => {
      const outcome = await claim.submit(req.user, req.params.serial, unwrap(req.body));
      if (outcome.kind === 'payload') return reply.code(200).send(toResponse(outcome.payload));
      return reply.code(202).send(toTransactionRequest(outcome.request));
    },
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
