// Minting a synthetic device (a software integration's NFT) for a minted vehicle (CHAIN.md §5).
// GET hands the vehicle owner the MintSyntheticDeviceSign {integrationNode, vehicleNode} payload.
// POST checks the owner's signature, then in ONE database transaction takes the next wallet index
// from the `synthetic_wallet_index` sequence, derives that wallet, has it sign the same digest,
// records the synthetic device and queues the relayed call. The index is reserved only at POST:
// a GET costs nothing, and an index taken by a transaction that rolls back is simply skipped
// (sequences never hand a value out twice, so two replicas never derive the same wallet).
import { and, eq, sql } from 'drizzle-orm';
import { encodeFunctionData, getAddress, type Address } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { integrations, metaTransactionRequests, syntheticDevices, userDevices } from '../db/schema.ts';
import type { ChainContext } from '../chain/context.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { enqueueTransaction, IN_FLIGHT, type MetaTxRow } from '../chain/outbox.ts';
import type { SyntheticWallets } from '../chain/synthetic-wallet.ts';
import { hashPayload, mintSyntheticDevicePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { newKsuid } from '../domain/ids.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { ownedBy, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { checkSignature, onChain } from './signature-check.ts';
import { DEVICE_NOT_FOUND, ownerOf, type VehicleService } from './vehicles.ts';

export type SyntheticMintPayload = TypedDataPayload<'MintSyntheticDeviceSign'>;

export type SyntheticMintOutcome = { kind: 'payload'; payload: SyntheticMintPayload } | { kind: 'enqueued'; request: MetaTxRow };

export interface SyntheticDeviceDeps {
  db: Db;
  chain: ChainContext;
  wallets: SyntheticWallets;
  vehicles: Pick<VehicleService, 'requireOwned'>;
  onEnqueued?: (request: MetaTxRow) => void;
}

const isInFlight = (status: string | undefined) => status !== undefined && (IN_FLIGHT as readonly string[]).includes(status);

export function createSyntheticDeviceService(deps: SyntheticDeviceDeps) {
  const { db, chain, wallets } = deps;
  const domain = { chainId: chain.chainId, verifyingContract: chain.deployment.registry };

  function minted(row: UserDeviceRow): { tokenId: bigint; owner: Address } {
    if (row.tokenId === null || row.ownerAddress === null) throw conflict('Vehicle not yet minted.');
    return { tokenId: row.tokenId, owner: getAddress(row.ownerAddress) };
  }

  async function requireIntegration(tx: Db | Tx, tokenId: bigint): Promise<void> {
    const [i] = await tx.select({ tokenId: integrations.tokenId }).from(integrations).where(eq(integrations.tokenId, tokenId));
    if (!i) throw notFound(`Integration ${tokenId} not found.`);
  }

  /**
   * 409 when the vehicle has a synthetic device, or one is being minted. The registry links one
   * synthetic device per vehicle whatever the integration, so another integration's is a 409 too.
   * A request that Failed leaves its row behind (its wallet is never reused) and frees the vehicle.
   */
  async function assertMintable(tx: Db | Tx, vehicleTokenId: bigint, integrationTokenId: bigint): Promise<void> {
    const rows = await tx
      .select({ row: syntheticDevices, status: metaTransactionRequests.status })
      .from(syntheticDevices)
      .leftJoin(metaTransactionRequests, eq(metaTransactionRequests.id, syntheticDevices.mintRequestId))
      .where(eq(syntheticDevices.vehicleTokenId, vehicleTokenId));
    for (const { row, status } of rows) {
      const which = row.integrationTokenId === integrationTokenId ? 'for this integration' : `for integration ${row.integrationTokenId}`;
      if (row.tokenId !== null) throw conflict(`Vehicle already has synthetic device ${row.tokenId} ${which}.`);
      if (isInFlight(status ?? undefined)) throw conflict(`Synthetic device minting already in progress ${which} (request ${row.mintRequestId}, ${status}).`);
      if (status === 'Confirmed') throw conflict(`Vehicle already has a synthetic device ${which} (being indexed).`);
    }
  }

  async function checked(user: AuthUser, userDeviceId: string, integrationTokenId: bigint) {
    const row = await deps.vehicles.requireOwned(user, userDeviceId);
    await requireIntegration(db, integrationTokenId);
    const v = minted(row);
    await assertMintable(db, v.tokenId, integrationTokenId);
    const payload = mintSyntheticDevicePayload(domain, { integrationNode: integrationTokenId, vehicleNode: v.tokenId });
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
      if (signature === undefined || signature === '') return { kind: 'payload', payload };
      const digest = hashPayload(payload);
      const owner = await checkSignature(chain, 'signature', digest, v.owner, signature);
      if (!owner.ok) {
        const by = owner.signer ? `; it was signed by ${owner.signer}` : '';
        throw badRequest(`signature does not match the vehicle owner ${v.owner}${by}. The vehicle NFT's owner must sign the payload from GET …/commands/mint.`);
      }
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

      const request = await db.transaction(async (tx) => {
        const [locked] = await tx.select().from(userDevices).where(and(eq(userDevices.id, userDeviceId), ownedBy(ownerOf(user)))).for('update');
        if (!locked) throw notFound(DEVICE_NOT_FOUND);
        const lv = minted(locked);
        if (lv.tokenId !== v.tokenId || lv.owner !== v.owner) throw conflict('The vehicle changed meanwhile (token or owner); fetch the payload again.');
        await assertMintable(tx, v.tokenId, integrationTokenId);

        // Both drivers (node-postgres, PGlite) answer { rows }.
        const next = (await tx.execute(sql`select nextval('synthetic_wallet_index')::text as n`)) as unknown as { rows: { n: string }[] };
        const index = Number(next.rows[0]!.n);
        const wallet = wallets.account(index);
        const deviceSig = await wallets.signMint(index, payload);
        const data = encodeFunctionData({
          abi: dimoRegistryAbi,
          functionName: 'mintSyntheticDeviceSign',
          args: [
            {
              integrationNode: integrationTokenId,
              vehicleNode: v.tokenId,
              syntheticDeviceSig: deviceSig,
              vehicleOwnerSig: owner.bytes,
              syntheticDeviceAddr: wallet.address,
              attrInfoPairs: [],
            },
          ],
        });
        const req = await enqueueTransaction(tx, {
          kind: 'MintSynthetic',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { userDeviceId, vehicleTokenId: v.tokenId.toString(), integrationTokenId: integrationTokenId.toString(), address: wallet.address.toLowerCase() },
        });
        await tx.insert(syntheticDevices).values({
          id: newKsuid(),
          userDeviceId,
          integrationTokenId,
          vehicleTokenId: v.tokenId,
          walletChildIndex: index,
          address: wallet.address.toLowerCase(),
          mintRequestId: req.id,
        });
        return req;
      });
      deps.onEnqueued?.(request);
      return { kind: 'enqueued', request };
    },
  };
}

export type SyntheticDeviceService = ReturnType<typeof createSyntheticDeviceService>;
