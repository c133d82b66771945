// Claiming an aftermarket device (API.md §2, CHAIN.md §1): the user and the device key both sign
// ClaimAftermarketDeviceSign; both signatures are checked before anything is queued; the relayed
// call is recorded in the outbox in the same transaction that links it to the device. The owner
// is set only when the indexer sees AftermarketDeviceClaimed. Development mode adds unclaim.
import { encodeFunctionData, getAddress, type Address } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { linkRequests, type AftermarketDeviceRow } from '../db/repositories/aftermarket-devices.ts';
import { claimUndone, findInFlight, findRequest, linkedOrInFlight, type MetaTxRow } from '../db/repositories/transaction-requests.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { claimAftermarketDevicePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { isBlank, requireAddress, signedBy } from '../domain/registry-command.ts';
import { isInFlight } from '../domain/relay-state.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { AppError, badRequest, conflict, ErrorCode } from '../errors.ts';
import { requireReadableDevice } from './aftermarket-devices.ts';
import { createRegistryCommands, type CommandOutcome, type RegistryCommandDeps } from './registry-command.ts';
import { onChain } from './signature-check.ts';

export type ClaimPayload = TypedDataPayload<'ClaimAftermarketDeviceSign'>;

/** POST …/commands/claim, after unwrapping `{"claimRequest": {...}}`. */
export interface ClaimBody {
  userSignature?: string;
  aftermarketDeviceSignature?: string;
}

export type ClaimOutcome = CommandOutcome<'ClaimAftermarketDeviceSign'>;

export type ClaimDeps = RegistryCommandDeps;

export function createClaimService(deps: ClaimDeps) {
  const { db, chain } = deps;
  const commands = createRegistryCommands(deps);
  const walletOf = (user: AuthUser) => requireAddress(user, 'claim the device');

  /** 409 when the device is claimed, or a claim is in progress; a Failed claim allows a new one. */
  async function assertClaimable(tx: Db | Tx, row: AftermarketDeviceRow): Promise<void> {
    if (row.ownerAddress !== null) throw conflict(`AftermarketDevice ${row.serial} is already claimed.`);
    const req = await findRequest(tx, row.claimRequestId);
    if (!req) return;
    if (isInFlight(req.status)) throw conflict(`Claiming transaction in progress (request ${req.id}, ${req.status}).`);
    // Confirmed but not indexed yet (and not undone by an unclaim since): claimed all the same.
    if (req.status === 'Confirmed' && !(await claimUndone(tx, row.tokenId, req))) {
      throw conflict(`AftermarketDevice ${row.serial} is already claimed.`);
    }
  }

  /** The device's claim as the chain has it now (the typehash has no nonce: never relay a claim the chain already reflects). */
  const claimedOnChain = (row: AftermarketDeviceRow) =>
    onChain('reading the device', () =>
      chain.publicClient.readContract({ address: chain.deployment.registry, abi: dimoRegistryAbi, functionName: 'isAftermarketDeviceClaimed', args: [row.tokenId] }),
    );

  const payloadFor = (row: AftermarketDeviceRow, owner: Address): ClaimPayload =>
    claimAftermarketDevicePayload(commands.domain, { aftermarketDeviceNode: row.tokenId, owner });

  /** Both signatures, each checked against its signer (400 naming the field otherwise). */
  async function verifyBoth(payload: ClaimPayload, owner: Address, device: Address, body: Required<ClaimBody>) {
    const userSig = await commands.verify('userSignature', payload, owner, body.userSignature, (signer) =>
      `userSignature does not match your address ${owner}${signedBy(signer, { address: device, name: 'the device key' })}. Sign the payload from GET …/commands/claim with your wallet.`,
    );
    const deviceSig = await commands.verify('aftermarketDeviceSignature', payload, device, body.aftermarketDeviceSignature, (signer) =>
      `aftermarketDeviceSignature does not match the device address ${device}${signedBy(signer, { address: owner, name: 'your wallet' })}. The device key must sign the same payload.`,
    );
    return { userSig, deviceSig };
  }

  return {
    /** GET …/commands/claim: the payload both the caller's wallet and the device key sign. */
    async payload(user: AuthUser, serial: string): Promise<ClaimPayload> {
      const row = await requireReadableDevice(db, user, serial);
      await assertClaimable(db, row);
      return payloadFor(row, walletOf(user));
    },

    /** POST …/commands/claim: without signatures, the payload (SDK form); with both, the claim. */
    async submit(user: AuthUser, serial: string, body: ClaimBody): Promise<ClaimOutcome> {
      const row = await requireReadableDevice(db, user, serial);
      await assertClaimable(db, row);
      const owner = walletOf(user);
      const payload = payloadFor(row, owner);
      const { userSignature, aftermarketDeviceSignature } = body;
      if (isBlank(userSignature) && isBlank(aftermarketDeviceSignature)) return { kind: 'payload', payload };
      if (isBlank(userSignature)) throw badRequest('userSignature is required: the signature of the payload by your wallet.');
      if (isBlank(aftermarketDeviceSignature)) {
        throw badRequest('aftermarketDeviceSignature is required: the signature of the same payload by the device key.');
      }
      const { userSig, deviceSig } = await verifyBoth(payload, owner, getAddress(row.address), { userSignature, aftermarketDeviceSignature });
      if (await claimedOnChain(row)) throw conflict(`AftermarketDevice ${row.serial} is already claimed on chain (token ${row.tokenId}).`);

      const data = encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'claimAftermarketDeviceSign', args: [row.tokenId, owner, userSig, deviceSig] });
      const request = await commands.enqueue(user, async (tx) => {
        // Re-checked under the row lock: a concurrent POST (or the indexer) may have got here first.
        const locked = await requireReadableDevice(tx, user, serial, { forUpdate: true });
        if (locked.tokenId !== row.tokenId) throw conflict(`AftermarketDevice ${row.serial} changed meanwhile; try again.`);
        await assertClaimable(tx, locked);
        return {
          kind: 'Claim',
          data,
          subject: { aftermarketTokenId: row.tokenId.toString(), serial: row.serial!, owner: owner.toLowerCase() },
          link: (tx, req) => linkRequests(tx, row.tokenId, { claimRequestId: req.id }),
        };
      });
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
        const pairing = await linkedOrInFlight(tx, row.pairRequestId, 'Pair', 'aftermarketTokenId', token);
        if (pairing) throw conflict(`AftermarketDevice ${row.serial} has a pairing in progress (request ${pairing.id}).`);
        const unclaiming = await findInFlight(tx, 'Unclaim', 'aftermarketTokenId', token);
        if (unclaiming) throw conflict(`Unclaiming transaction in progress (request ${unclaiming.id}, ${unclaiming.status}).`);
      };
      const row = await requireReadableDevice(db, user, serial);
      await check(db, row);
      if (!(await claimedOnChain(row))) throw conflict(`AftermarketDevice ${row.serial} is not claimed on chain (token ${row.tokenId}).`);

      const data = encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'unclaimAftermarketDeviceNode', args: [[row.tokenId]] });
      return commands.enqueue(user, async (tx) => {
        await check(tx, await requireReadableDevice(tx, user, serial, { forUpdate: true }));
        return { kind: 'Unclaim', data, subject: { aftermarketTokenId: row.tokenId.toString(), serial: row.serial! } };
      });
    },
  };
}

export type ClaimService = ReturnType<typeof createClaimService>;
