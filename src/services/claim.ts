// Claiming an aftermarket device (API.md §2, CHAIN.md §1): the user and the device key both sign
// ClaimAftermarketDeviceSign; both signatures are checked before anything is queued; the relayed
// call is recorded in the outbox in the same transaction that links it to the device. The owner
// is set only when the indexer sees AftermarketDeviceClaimed. Development mode adds unclaim.
import { eq } from 'drizzle-orm';
import { encodeFunctionData, getAddress, type Address } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { aftermarketDevices, metaTransactionRequests } from '../db/schema.ts';
import type { ChainContext } from '../chain/context.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { enqueueTransaction, findInFlight, IN_FLIGHT, type MetaTxRow } from '../chain/outbox.ts';
import { claimAftermarketDevicePayload, hashPayload, type TypedDataPayload } from '../domain/eip712.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { AppError, badRequest, conflict, ErrorCode } from '../errors.ts';
import { claimUndone, requireReadableDevice, type AftermarketDeviceRow } from './aftermarket-devices.ts';
import { checkSignature, onChain } from './signature-check.ts';

export type ClaimPayload = TypedDataPayload<'ClaimAftermarketDeviceSign'>;

/** POST …/commands/claim, after unwrapping `{"claimRequest": {...}}`. */
export interface ClaimBody {
  userSignature?: string;
  aftermarketDeviceSignature?: string;
}

export type ClaimOutcome = { kind: 'payload'; payload: ClaimPayload } | { kind: 'enqueued'; request: MetaTxRow };

export interface ClaimDeps {
  db: Db;
  chain: ChainContext;
  /** Called after a request is committed (e.g. to wake the relayer). */
  onEnqueued?: (request: MetaTxRow) => void;
}

const isInFlight = (status: string) => (IN_FLIGHT as readonly string[]).includes(status);

export function createClaimService(deps: ClaimDeps) {
  const { db, chain } = deps;
  const domain = { chainId: chain.chainId, verifyingContract: chain.deployment.registry };

  function requireAddress(user: AuthUser): Address {
    if (!user.address) {
      throw conflict('Your account has no Ethereum address; add a wallet to your account, then claim the device with that wallet.');
    }
    return user.address;
  }

  async function requestOf(tx: Db | Tx, id: string | null): Promise<MetaTxRow | undefined> {
    if (!id) return undefined;
    const [row] = await tx.select().from(metaTransactionRequests).where(eq(metaTransactionRequests.id, id));
    return row;
  }

  /** 409 when the device is claimed, or a claim is in progress; a Failed claim allows a new one. */
  async function assertClaimable(tx: Db | Tx, row: AftermarketDeviceRow): Promise<void> {
    if (row.ownerAddress !== null) throw conflict(`AftermarketDevice ${row.serial} is already claimed.`);
    const req = await requestOf(tx, row.claimRequestId);
    if (!req) return;
    if (isInFlight(req.status)) throw conflict(`Claiming transaction in progress (request ${req.id}, ${req.status}).`);
    // Confirmed but not indexed yet (and not undone by an unclaim since): claimed all the same.
    if (req.status === 'Confirmed' && !(await claimUndone(tx, row.tokenId, req))) {
      throw conflict(`AftermarketDevice ${row.serial} is already claimed.`);
    }
  }

  /** The typehash has no nonce: never relay a claim the chain already reflects. */
  async function assertUnclaimedOnChain(row: AftermarketDeviceRow): Promise<void> {
    const claimed = await onChain('reading the device', () =>
      chain.publicClient.readContract({ address: chain.deployment.registry, abi: dimoRegistryAbi, functionName: 'isAftermarketDeviceClaimed', args: [row.tokenId] }),
    );
    if (claimed) throw conflict(`AftermarketDevice ${row.serial} is already claimed on chain (token ${row.tokenId}).`);
  }

  const payloadFor = (row: AftermarketDeviceRow, owner: Address): ClaimPayload =>
    claimAftermarketDevicePayload(domain, { aftermarketDeviceNode: row.tokenId, owner });

  return {
    /** GET …/commands/claim: the payload both the caller's wallet and the device key sign. */
    async payload(user: AuthUser, serial: string): Promise<ClaimPayload> {
      const row = await requireReadableDevice(db, user, serial);
      await assertClaimable(db, row);
      return payloadFor(row, requireAddress(user));
    },

    /** POST …/commands/claim: without signatures, the payload (SDK form); with both, the claim. */
    async submit(user: AuthUser, serial: string, body: ClaimBody): Promise<ClaimOutcome> {
      const row = await requireReadableDevice(db, user, serial);
      await assertClaimable(db, row);
      const owner = requireAddress(user);
      const payload = payloadFor(row, owner);
      const blank = (s: string | undefined) => s === undefined || s === '';
      if (blank(body.userSignature) && blank(body.aftermarketDeviceSignature)) return { kind: 'payload', payload };
      if (blank(body.userSignature)) throw badRequest('userSignature is required: the signature of the payload by your wallet.');
      if (blank(body.aftermarketDeviceSignature)) {
        throw badRequest('aftermarketDeviceSignature is required: the signature of the same payload by the device key.');
      }

      const digest = hashPayload(payload);
      const device = getAddress(row.address);
      const userSig = await checkSignature(chain, 'userSignature', digest, owner, body.userSignature);
      if (!userSig.ok) {
        const who = userSig.signer?.toLowerCase() === device.toLowerCase() ? ' (the device key: are the two signatures swapped?)' : '';
        const by = userSig.signer ? `; it was signed by ${userSig.signer}${who}` : '';
        throw badRequest(`userSignature does not match your address ${owner}${by}. Sign the payload from GET …/commands/claim with your wallet.`);
      }
      const deviceSig = await checkSignature(chain, 'aftermarketDeviceSignature', digest, device, body.aftermarketDeviceSignature);
      if (!deviceSig.ok) {
        const who = deviceSig.signer?.toLowerCase() === owner.toLowerCase() ? ' (your wallet: are the two signatures swapped?)' : '';
        const by = deviceSig.signer ? `; it was signed by ${deviceSig.signer}${who}` : '';
        throw badRequest(`aftermarketDeviceSignature does not match the device address ${device}${by}. The device key must sign the same payload.`);
      }
      await assertUnclaimedOnChain(row);

      const data = encodeFunctionData({
        abi: dimoRegistryAbi,
        functionName: 'claimAftermarketDeviceSign',
        args: [row.tokenId, owner, userSig.bytes, deviceSig.bytes],
      });
      const request = await db.transaction(async (tx) => {
        // Re-checked under the row lock: a concurrent POST (or the indexer) may have got here first.
        const locked = await requireReadableDevice(tx, user, serial, { forUpdate: true });
        if (locked.tokenId !== row.tokenId) throw conflict(`AftermarketDevice ${row.serial} changed meanwhile; try again.`);
        await assertClaimable(tx, locked);
        const req = await enqueueTransaction(tx, {
          kind: 'Claim',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { aftermarketTokenId: row.tokenId.toString(), serial: row.serial!, owner: owner.toLowerCase() },
        });
        await tx.update(aftermarketDevices).set({ claimRequestId: req.id, updatedAt: new Date() }).where(eq(aftermarketDevices.tokenId, row.tokenId));
        return req;
      });
      deps.onEnqueued?.(request);
      return { kind: 'enqueued', request };
    },

    /**
     * POST …/commands/unclaim (development only): the owner hands the device back to its
     * manufacturer so it can be claimed again. The database follows when the indexer sees
     * AftermarketDeviceUnclaimed.
     */
    async unclaim(user: AuthUser, serial: string): Promise<MetaTxRow> {
      const check = async (tx: Db | Tx, row: AftermarketDeviceRow) => {
        if (row.ownerAddress === null) throw conflict(`AftermarketDevice ${row.serial} is not claimed.`);
        if (row.ownerAddress !== user.address?.toLowerCase()) {
          throw new AppError(403, ErrorCode.Forbidden, `Only the owner of AftermarketDevice ${row.serial} may unclaim it.`);
        }
        if (row.vehicleTokenId !== null) throw conflict(`AftermarketDevice ${row.serial} is paired with vehicle ${row.vehicleTokenId}; unpair it first.`);
        const token = row.tokenId.toString();
        const linked = await requestOf(tx, row.pairRequestId);
        const pairing = linked && isInFlight(linked.status) ? linked : await findInFlight(tx, 'Pair', 'aftermarketTokenId', token);
        if (pairing) throw conflict(`AftermarketDevice ${row.serial} has a pairing in progress (request ${pairing.id}).`);
        const unclaiming = await findInFlight(tx, 'Unclaim', 'aftermarketTokenId', token);
        if (unclaiming) throw conflict(`Unclaiming transaction in progress (request ${unclaiming.id}, ${unclaiming.status}).`);
      };
      const row = await requireReadableDevice(db, user, serial);
      await check(db, row);
      const claimed = await onChain('reading the device', () =>
        chain.publicClient.readContract({ address: chain.deployment.registry, abi: dimoRegistryAbi, functionName: 'isAftermarketDeviceClaimed', args: [row.tokenId] }),
      );
      if (!claimed) throw conflict(`AftermarketDevice ${row.serial} is not claimed on chain (token ${row.tokenId}).`);

      const data = encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'unclaimAftermarketDeviceNode', args: [[row.tokenId]] });
      const request = await db.transaction(async (tx) => {
        const locked = await requireReadableDevice(tx, user, serial, { forUpdate: true });
        await check(tx, locked);
        return enqueueTransaction(tx, {
          kind: 'Unclaim',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { aftermarketTokenId: row.tokenId.toString(), serial: row.serial! },
        });
      });
      deps.onEnqueued?.(request);
      return request;
    },
  };
}

export type ClaimService = ReturnType<typeof createClaimService>;
