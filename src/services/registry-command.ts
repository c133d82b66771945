// Relaying a command through the registry (claim, pair, unpair, vehicle mint, synthetic mint,
// setPrivileges): check the signature, then in ONE database transaction re-check under the row
// lock, write the outbox row and link it to what it changes; after the commit, wake the relayer.
import type { Address, Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import type { ChainContext } from '../chain/context.ts';
import { enqueueTransaction, type MetaTxRow, type TxKind } from '../db/repositories/transaction-requests.ts';
import { lockOwned, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { hashPayload, type RegistryPrimaryType, type TypedDataPayload } from '../domain/eip712.ts';
import { registryDomain } from '../domain/registry-command.ts';
import { badRequest, notFound } from '../errors.ts';
import { checkSignature } from './signature-check.ts';
import { DEVICE_NOT_FOUND, ownerOf, type VehicleService } from './vehicles.ts';

export interface RegistryCommandDeps {
  db: Db;
  chain: ChainContext;
  /** Called after a request is committed (e.g. to wake the relayer). */
  onEnqueued?: (request: MetaTxRow) => void;
}

/** Commands on one of the caller's vehicles (pair, unpair, vehicle and synthetic mint, sharing). */
export interface VehicleCommandDeps extends RegistryCommandDeps {
  vehicles: Pick<VehicleService, 'requireOwned'>;
}

/** POST without a signature answers the payload to sign (as GET); with one, the queued request. */
export type CommandOutcome<P extends RegistryPrimaryType> = { kind: 'payload'; payload: TypedDataPayload<P> } | { kind: 'enqueued'; request: MetaTxRow };

/** The registry call to relay, and how to link the queued request to what it changes. */
export interface RegistryCall {
  kind: TxKind;
  data: Hex;
  /** What the request is about, e.g. { userDeviceId, vehicleTokenId, aftermarketTokenId }. */
  subject: Record<string, string>;
  link?: (tx: Tx, request: MetaTxRow) => Promise<void>;
}

export function createRegistryCommands(deps: RegistryCommandDeps) {
  const { db, chain } = deps;

  return {
    domain: registryDomain(chain),

    /**
     * The bytes to relay when `signature` (body field `field`) is `expected`'s over `payload`
     * (ECDSA, or ERC-1271 for a contract wallet); else a 400 with `mismatch(signer)`.
     */
    async verify(field: string, payload: TypedDataPayload, expected: Address, signature: string, mismatch: (signer: Address | null) => string): Promise<Hex> {
      const check = await checkSignature(chain, field, hashPayload(payload), expected, signature);
      if (check.ok) return check.bytes;
      throw badRequest(mismatch(check.signer));
    },

    /** The caller's vehicle under a row lock (inside `enqueue`): another user's is the same 404 as everywhere. */
    async lockVehicle(tx: Tx, user: AuthUser, userDeviceId: string): Promise<UserDeviceRow> {
      const row = await lockOwned(tx, ownerOf(user), userDeviceId);
      if (!row) throw notFound(DEVICE_NOT_FOUND);
      return row;
    },

    /**
     * Enqueue-then-wake: `prepare` runs in the transaction (lock, re-check what was checked before
     * it, build the call); the request is written and linked there, and the relayer woken after.
     */
    async enqueue(user: AuthUser, prepare: (tx: Tx) => Promise<RegistryCall>): Promise<MetaTxRow> {
      const request = await db.transaction(async (tx) => {
        const call = await prepare(tx);
        const req = await enqueueTransaction(tx, { kind: call.kind, userId: user.id, to: chain.deployment.registry, data: call.data, subject: call.subject });
        await call.link?.(tx, req);
        return req;
      });
      deps.onEnqueued?.(request);
      return request;
    },
  };
}

export type RegistryCommands = ReturnType<typeof createRegistryCommands>;
