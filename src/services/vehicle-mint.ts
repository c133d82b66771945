// Minting a user's vehicle as an NFT (API.md §1, CHAIN.md §1): hand out the EIP-712
// MintVehicleWithDeviceDefinitionSign payload, check the owner's signature (ECDSA, or ERC-1271 for
// a contract wallet), and record the relayed call in the outbox in the same database transaction
// that links it to the vehicle. The indexer gives the vehicle its token id once the mint is on
// chain; until then the vehicle's `nft` block shows the request's status.
import { and, eq } from 'drizzle-orm';
import { encodeFunctionData, type Address, type Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { metaTransactionRequests, userDevices } from '../db/schema.ts';
import type { ChainContext } from '../chain/context.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { enqueueTransaction, IN_FLIGHT, type MetaTxRow } from '../chain/outbox.ts';
import { MakeNodeMissingError, type MakeNodes } from '../chain/manufacturers.ts';
import { attrInfoPairs, hashPayload, mintVehiclePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { checkSignature, onChain } from './signature-check.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { ownedBy, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { DEVICE_NOT_FOUND, ownerOf, type VehicleService } from './vehicles.ts';

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

export type MintOutcome = { kind: 'payload'; payload: MintPayload } | { kind: 'enqueued'; request: MetaTxRow };

export interface VehicleMintDeps {
  db: Db;
  chain: ChainContext;
  vehicles: Pick<VehicleService, 'requireOwned'>;
  makeNodes: MakeNodes;
  /** Called after a mint request is committed (e.g. to wake the relayer). */
  onEnqueued?: (request: MetaTxRow) => void;
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
  const { db, chain } = deps;
  const domain = { chainId: chain.chainId, verifyingContract: chain.deployment.registry };

  function requireAddress(user: AuthUser): Address {
    if (!user.address) {
      throw conflict('Your account has no Ethereum address; add a wallet to your account, then mint the vehicle with that wallet.');
    }
    return user.address;
  }

  /** 409 when the vehicle is minted or a mint is in progress; a Failed request allows a new one. */
  async function assertMintable(tx: Db | Tx, row: UserDeviceRow): Promise<void> {
    if (row.tokenId !== null) throw conflict(`Vehicle already minted with token id ${row.tokenId}.`);
    if (!row.mintRequestId) return;
    const [req] = await tx.select({ status: metaTransactionRequests.status }).from(metaTransactionRequests).where(eq(metaTransactionRequests.id, row.mintRequestId));
    if (req && (IN_FLIGHT as readonly string[]).includes(req.status)) {
      throw conflict(`Vehicle minting already in progress (request ${row.mintRequestId}, ${req.status}).`);
    }
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
    return mintVehiclePayload(domain, {
      manufacturerNode,
      owner,
      deviceDefinitionId: row.definitionId,
      make: def.make.name,
      model: def.model,
      year: def.year,
    });
  }

  /** The bytes to relay when `signature` is the owner's over `payload` (ECDSA, or ERC-1271 for a contract wallet); 400 otherwise. */
  async function verifiedSignature(payload: MintPayload, owner: Address, signature: string): Promise<Hex> {
    const check = await checkSignature(chain, 'signature', hashPayload(payload), owner, signature);
    if (check.ok) return check.bytes;
    const by = check.signer ? `; it was signed by ${check.signer}` : '';
    throw badRequest(`The signature does not match the vehicle owner ${owner}${by}. Sign the payload from GET …/commands/mint with the owner's wallet.`);
  }

  return {
    /** GET …/commands/mint: the payload the caller's wallet signs. */
    async payload(user: AuthUser, userDeviceId: string): Promise<MintPayload> {
      const row = await deps.vehicles.requireOwned(user, userDeviceId);
      await assertMintable(db, row);
      return payloadFor(row, requireAddress(user));
    },

    /** POST …/commands/mint: without a signature, the payload (SDK form); with one, the mint request. */
    async submit(user: AuthUser, userDeviceId: string, body: MintBody): Promise<MintOutcome> {
      const row = await deps.vehicles.requireOwned(user, userDeviceId);
      await assertMintable(db, row);
      const owner = requireAddress(user);
      const signature = body.signature ?? body.userSignature;
      checkPngField('imageData', body.imageData);
      checkPngField('imageDataTransparent', body.imageDataTransparent);
      const payload = await payloadFor(row, owner);
      if (signature === undefined || signature === '') return { kind: 'payload', payload };

      const sig = await verifiedSignature(payload, owner, signature);
      const m = payload.message;
      const data = encodeFunctionData({
        abi: dimoRegistryAbi,
        functionName: 'mintVehicleWithDeviceDefinitionSign',
        args: [BigInt(m.manufacturerNode), m.owner, m.deviceDefinitionId, attrInfoPairs(m), sig],
      });

      const request = await db.transaction(async (tx) => {
        // Re-checked under the row lock: a concurrent POST (or the indexer) may have got here first.
        const [locked] = await tx
          .select()
          .from(userDevices)
          .where(and(eq(userDevices.id, userDeviceId), ownedBy(ownerOf(user))))
          .for('update');
        if (!locked) throw notFound(DEVICE_NOT_FOUND);
        await assertMintable(tx, locked);
        const req = await enqueueTransaction(tx, {
          kind: 'MintVehicle',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { userDeviceId, owner: owner.toLowerCase() },
        });
        await tx.update(userDevices).set({ mintRequestId: req.id, updatedAt: new Date() }).where(eq(userDevices.id, userDeviceId));
        return req;
      });
      deps.onEnqueued?.(request);
      return { kind: 'enqueued', request };
    },
  };
}

export type VehicleMintService = ReturnType<typeof createVehicleMintService>;
