// Minting a synthetic device (a software integration's NFT) for a minted vehicle (CHAIN.md §5).
// GET hands the vehicle owner the MintSyntheticDeviceSign {integrationNode, vehicleNode} payload.
// POST checks the owner's signature, then in ONE database transaction takes the next wallet index
// from the `synthetic_wallet_index` sequence, derives that wallet, has it sign the same digest,
// records the synthetic device and queues the relayed call. The index is reserved only at POST:
// a GET costs nothing, and an index taken by a transaction that rolls back is simply skipped
// (sequences never hand a value out twice, so two replicas never derive the same wallet).
import { encodeFunctionData, type Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import type { SyntheticWallets } from '../chain/synthetic-wallet.ts';
import { insertSyntheticDevice, integrationExists, nextWalletIndex, syntheticDevicesOf } from '../db/repositories/synthetic-devices.ts';
import { mintSyntheticDevicePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { newKsuid } from '../domain/ids.ts';
import { isBlank, requireMinted, requireSameVehicle, signedBy, type MintedVehicle } from '../domain/registry-command.ts';
import { isInFlight } from '../domain/relay-state.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { conflict, notFound } from '../errors.ts';
import { createRegistryCommands, type CommandOutcome, type RegistryCall, type VehicleCommandDeps } from './registry-command.ts';
import { onChain } from './signature-check.ts';

export type SyntheticMintPayload = TypedDataPayload<'MintSyntheticDeviceSign'>;

export type SyntheticMintOutcome = CommandOutcome<'MintSyntheticDeviceSign'>;

export interface SyntheticDeviceDeps extends VehicleCommandDeps {
  wallets: SyntheticWallets;
}

export function createSyntheticDeviceService(deps: SyntheticDeviceDeps) {
  const { db, chain, wallets } = deps;
  const commands = createRegistryCommands(deps);

  /**
   * 409 when the vehicle has a synthetic device, or one is being minted. The registry links one
   * synthetic device per vehicle whatever the integration, so another integration's is a 409 too.
   * A request that Failed leaves its row behind (its wallet is never reused) and frees the vehicle.
   */
  async function assertMintable(tx: Db | Tx, vehicleTokenId: bigint, integrationTokenId: bigint): Promise<void> {
    for (const { row, status } of await syntheticDevicesOf(tx, vehicleTokenId)) {
      const which = row.integrationTokenId === integrationTokenId ? 'for this integration' : `for integration ${row.integrationTokenId}`;
      if (row.tokenId !== null) throw conflict(`Vehicle already has synthetic device ${row.tokenId} ${which}.`);
      if (isInFlight(status)) throw conflict(`Synthetic device minting already in progress ${which} (request ${row.mintRequestId}, ${status}).`);
      if (status === 'Confirmed') throw conflict(`Vehicle already has a synthetic device ${which} (being indexed).`);
    }
  }

  /** Takes the next wallet, has it sign the payload too, and records the synthetic device with the queued request. */
  async function mintCall(tx: Tx, userDeviceId: string, v: MintedVehicle, integrationTokenId: bigint, payload: SyntheticMintPayload, ownerSig: Hex): Promise<RegistryCall> {
    const index = await nextWalletIndex(tx);
    const address = wallets.account(index).address;
    const deviceSig = await wallets.signMint(index, payload);
    const data = encodeFunctionData({
      abi: dimoRegistryAbi,
      functionName: 'mintSyntheticDeviceSign',
      args: [{ integrationNode: integrationTokenId, vehicleNode: v.tokenId, syntheticDeviceSig: deviceSig, vehicleOwnerSig: ownerSig, syntheticDeviceAddr: address, attrInfoPairs: [] }],
    });
    return {
      kind: 'MintSynthetic',
      data,
      subject: { userDeviceId, vehicleTokenId: v.tokenId.toString(), integrationTokenId: integrationTokenId.toString(), address: address.toLowerCase() },
      link: (tx, req) =>
        insertSyntheticDevice(tx, {
          id: newKsuid(),
          userDeviceId,
          integrationTokenId,
          vehicleTokenId: v.tokenId,
          walletChildIndex: index,
          address: address.toLowerCase(),
          mintRequestId: req.id,
        }),
    };
  }

  async function checked(user: AuthUser, userDeviceId: string, integrationTokenId: bigint) {
    const row = await deps.vehicles.requireOwned(user, userDeviceId);
    if (!(await integrationExists(db, integrationTokenId))) throw notFound(`Integration ${integrationTokenId} not found.`);
    const v = requireMinted(row);
    await assertMintable(db, v.tokenId, integrationTokenId);
    const payload = mintSyntheticDevicePayload(commands.domain, { integrationNode: integrationTokenId, vehicleNode: v.tokenId });
    return { v, payload };
  }

  return {
    /** GET …/integrations/{integrationTokenId}/commands/mint. */
    async payload(user: AuthUser, userDeviceId: string, integrationTokenId: bigint): Promise<SyntheticMintPayload> {
      return (await checked(user, userDeviceId, integrationTokenId)).payload;
    },

    /** POST: without a signature the payload (as GET); with the owner's, the mint request. */
    async mint(user: AuthUser, userDeviceId: string, integrationTokenId: bigint, signature: string | undefined): Promise<SyntheticMintOutcome> {
      const { v, payload } = await checked(user, userDeviceId, integrationTokenId);
      if (isBlank(signature)) return { kind: 'payload', payload };
      const ownerSig = await commands.verify('signature', payload, v.owner, signature, (signer) =>
        `signature does not match the vehicle owner ${v.owner}${signedBy(signer)}. The vehicle NFT's owner must sign the payload from GET …/commands/mint.`,
      );
      // No nonce in the typehash: never relay a mint the chain already reflects.
      const existing = await onChain('reading the vehicle', () =>
        chain.publicClient.readContract({
          address: chain.deployment.registry,
          abi: dimoRegistryAbi,
          functionName: 'getNodeLink',
          args: [chain.deployment.vehicleId, chain.deployment.syntheticDeviceId, v.tokenId],
        }),
      );
      if (existing !== 0n) throw conflict(`Vehicle already has synthetic device ${existing} (on chain).`);

      const request = await commands.enqueue(user, async (tx) => {
        const locked = await commands.lockVehicle(tx, user, userDeviceId);
        requireMinted(locked);
        requireSameVehicle(v, locked);
        await assertMintable(tx, v.tokenId, integrationTokenId);
        return mintCall(tx, userDeviceId, v, integrationTokenId, payload, ownerSig);
      });
      return { kind: 'enqueued', request };
    },
  };
}

export type SyntheticDeviceService = ReturnType<typeof createSyntheticDeviceService>;
