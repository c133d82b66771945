// Minting a user's vehicle as an NFT (API.md §1, CHAIN.md §1): hand out the EIP-712
// MintVehicleWithDeviceDefinitionSign payload, check the owner's signature (ECDSA, or ERC-1271 for
// a contract wallet), and record the relayed call in the outbox in the same database transaction
// that links it to the vehicle. The indexer gives the vehicle its token id once the mint is on
// chain; until then the vehicle's `nft` block shows the request's status.
import { encodeFunctionData, type Address } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { statusOf } from '../db/repositories/transaction-requests.ts';
import { linkMintRequest, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import { MakeNodeMissingError, type MakeNodes } from '../chain/manufacturers.ts';
import { attrInfoPairs, mintVehiclePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { isBlank, requireAddress, signedBy } from '../domain/registry-command.ts';
import { isInFlight } from '../domain/relay-state.ts';
import { onChain } from './signature-check.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { badRequest, conflict } from '../errors.ts';
import { createRegistryCommands, type CommandOutcome, type VehicleCommandDeps } from './registry-command.ts';

export type MintPayload = TypedDataPayload<'MintVehicleWithDeviceDefinitionSign'>;

/** What a client may send to POST …/commands/mint, after unwrapping `{"mintRequest": {...}}`. */
export interface MintBody {
  signature?: string;
  /** Synonym of `signature` (API.md §7). */
  userSignature?: string;
  /** Base64 PNG (optionally a `data:image/png;base64,` URL); validated, not stored (see below). */
  imageData?: string;
  imageDataTransparent?: string;
}

export type MintOutcome = CommandOutcome<'MintVehicleWithDeviceDefinitionSign'>;

export interface VehicleMintDeps extends VehicleCommandDeps {
  makeNodes: MakeNodes;
}

export const MAX_IMAGE_BYTES = 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Checks an optional image field: base64 (or a `data:image/png;base64,` URL) of a PNG of at most
 * 1 MiB. The original API uploaded it to IPFS for the NFT's image; this service serves a generated
 * vehicle image (`/v1/vehicle/{tokenId}/image`) instead, so the image is checked and then dropped.
 */
export function checkPngField(field: string, value: string | undefined): void {
  if (value === undefined || value === '') return;
  const b64 = value.replace(/^data:image\/png;base64,/i, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) throw badRequest(`${field} is not properly base64-encoded.`);
  if ((b64.length * 3) / 4 > MAX_IMAGE_BYTES + 3) throw badRequest(`${field} is larger than ${MAX_IMAGE_BYTES} bytes.`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length > MAX_IMAGE_BYTES) throw badRequest(`${field} is larger than ${MAX_IMAGE_BYTES} bytes.`);
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw badRequest(`${field} is not a PNG image.`);
  }
}

export function createVehicleMintService(deps: VehicleMintDeps) {
  const { db } = deps;
  const commands = createRegistryCommands(deps);
  const walletOf = (user: AuthUser) => requireAddress(user, 'mint the vehicle');

  /** 409 when the vehicle is minted or a mint is in progress; a Failed request allows a new one. */
  async function assertMintable(tx: Db | Tx, row: UserDeviceRow): Promise<void> {
    if (row.tokenId !== null) throw conflict(`Vehicle already minted with token id ${row.tokenId}.`);
    const status = await statusOf(tx, row.mintRequestId);
    if (isInFlight(status)) throw conflict(`Vehicle minting already in progress (request ${row.mintRequestId}, ${status}).`);
  }

  async function payloadFor(row: UserDeviceRow, owner: Address): Promise<MintPayload> {
    const def = row.definition;
    let manufacturerNode: bigint;
    try {
      manufacturerNode = await onChain('looking up the make', () => deps.makeNodes.ensureMakeNode(def.make.name));
    } catch (err) {
      if (err instanceof MakeNodeMissingError) throw conflict(err.message);
      throw err;
    }
    return mintVehiclePayload(commands.domain, {
      manufacturerNode,
      owner,
      deviceDefinitionId: row.definitionId,
      make: def.make.name,
      model: def.model,
      year: def.year,
    });
  }

  return {
    /** GET …/commands/mint: the payload the caller's wallet signs. */
    async payload(user: AuthUser, userDeviceId: string): Promise<MintPayload> {
      const row = await deps.vehicles.requireOwned(user, userDeviceId);
      await assertMintable(db, row);
      return payloadFor(row, walletOf(user));
    },

    /** POST …/commands/mint: without a signature, the payload (SDK form); with one, the mint request. */
    async submit(user: AuthUser, userDeviceId: string, body: MintBody): Promise<MintOutcome> {
      const row = await deps.vehicles.requireOwned(user, userDeviceId);
      await assertMintable(db, row);
      const owner = walletOf(user);
      const signature = body.signature ?? body.userSignature;
      checkPngField('imageData', body.imageData);
      checkPngField('imageDataTransparent', body.imageDataTransparent);
      const payload = await payloadFor(row, owner);
      if (isBlank(signature)) return { kind: 'payload', payload };

      const sig = await commands.verify('signature', payload, owner, signature, (signer) =>
        `The signature does not match the vehicle owner ${owner}${signedBy(signer)}. Sign the payload from GET …/commands/mint with the owner's wallet.`,
      );
      const m = payload.message;
      const data = encodeFunctionData({
        abi: dimoRegistryAbi,
        functionName: 'mintVehicleWithDeviceDefinitionSign',
        args: [BigInt(m.manufacturerNode), m.owner, m.deviceDefinitionId, attrInfoPairs(m), sig],
      });

      const request = await commands.enqueue(user, async (tx) => {
        // Re-checked under the row lock: a concurrent POST (or the indexer) may have got here first.
        await assertMintable(tx, await commands.lockVehicle(tx, user, userDeviceId));
        return {
          kind: 'MintVehicle',
          data,
          subject: { userDeviceId, owner: owner.toLowerCase() },
          link: (tx, req) => linkMintRequest(tx, userDeviceId, req.id),
        };
      });
      return { kind: 'enqueued', request };
    },
  };
}

export type VehicleMintService = ReturnType<typeof createVehicleMintService>;
