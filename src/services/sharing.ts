// Sharing a vehicle (issue 14): the owner signs SetPrivilegesSign (grant, or revoke with expires 0)
// and the relayer sends it, so sharing costs the owner no gas. The payload carries the vehicle
// NFT's privilegeNonce(tokenId, grantee), read from the chain at GET and again at POST, so a
// signature over an older state of the grantee's privileges (a replay) no longer verifies.
import { encodeFunctionData, type Address } from 'viem';
import type { Db } from '../db/engine.ts';
import { nodeNftAbi, dimoRegistryAbi } from '../chain/abi/index.ts';
import { findInFlight, requestsForVehicle } from '../db/repositories/transaction-requests.ts';
import { heldPrivileges, privilegesSince, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import { setPrivilegesPayload, type TypedDataPayload } from '../domain/eip712.ts';
import { isBlank } from '../domain/registry-command.ts';
import {
  deriveShares,
  parseExpiresAt,
  parseGrantee,
  parsePrivilegeIds,
  privilegeName,
  SHARE_HISTORY_MS,
  type Parsed,
  type ShareRequest,
  type ShareView,
} from '../domain/share-request.ts';
import { onChain } from './signature-check.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { badRequest, conflict } from '../errors.ts';
import { createRegistryCommands, type CommandOutcome, type VehicleCommandDeps } from './registry-command.ts';

export type SharePayload = TypedDataPayload<'SetPrivilegesSign'>;

/** Grant (`expiresAt` set) or revoke (no `expiresAt`; privileges default to all the grantee holds). */
export interface ShareInput {
  grantee?: unknown;
  privileges?: unknown;
  expiresAt?: unknown;
  signature?: string;
}

export type ShareOutcome = CommandOutcome<'SetPrivilegesSign'>;

export interface SharingDeps extends VehicleCommandDeps {
  maxDays: number;
  now?: () => Date;
}

export interface ShareEntry {
  grantee: string;
  privileges: { id: number; name: string; expiresAt: Date }[];
  status: ShareView['status'];
  requestId: string | null;
}

const KIND = 'SetPrivileges';

function must<T>(p: Parsed<T>): T {
  if (!p.ok) throw badRequest(p.message);
  return p.value;
}

interface Resolved {
  row: UserDeviceRow & { tokenId: bigint };
  owner: Address;
  grantee: string;
  privIds: number[];
  expires: number;
  action: 'grant' | 'revoke';
}

export function createSharingService(deps: SharingDeps) {
  const { db, chain } = deps;
  const now = deps.now ?? (() => new Date());
  const commands = createRegistryCommands(deps);

  /** The vehicle (404 for another user's, 409 unless minted) and the checked request. */
  async function resolve(user: AuthUser, userDeviceId: string, input: ShareInput, action: 'grant' | 'revoke'): Promise<Resolved> {
    const row = await deps.vehicles.requireOwned(user, userDeviceId);
    const grantee = must(parseGrantee(input.grantee));
    if (row.tokenId === null) throw conflict('The vehicle is not minted yet; mint it (…/commands/mint) before sharing it.');
    const owner = (row.ownerAddress ?? user.address?.toLowerCase() ?? null) as Address | null;
    if (!owner) throw conflict('The vehicle has no known owner address yet; try again once its mint is indexed.');
    if (grantee === owner.toLowerCase()) throw badRequest('grantee is the vehicle owner; share with another address.');
    const tokenId = row.tokenId;
    let privIds: number[];
    let expires = 0;
    if (action === 'grant') {
      privIds = must(parsePrivilegeIds(input.privileges));
      expires = must(parseExpiresAt(input.expiresAt, now(), deps.maxDays));
    } else if (input.privileges !== undefined && input.privileges !== '') {
      privIds = must(parsePrivilegeIds(input.privileges));
    } else {
      privIds = await heldPrivileges(db, tokenId, grantee, now());
      if (privIds.length === 0) throw conflict(`${grantee} holds no privileges on this vehicle; nothing to revoke.`);
    }
    await assertNoneInFlight(db, tokenId, grantee);
    return { row: { ...row, tokenId }, owner, grantee, privIds, expires, action };
  }

  async function assertNoneInFlight(tx: Pick<Db, 'select'>, tokenId: bigint, grantee: string): Promise<void> {
    const busy = await findInFlight(tx as Db, KIND, 'shareKey', `${tokenId}:${grantee}`);
    if (busy) throw conflict(`A change of ${grantee}'s privileges on this vehicle is already in progress (request ${busy.id}, ${busy.status}).`);
  }

  async function payloadFor(r: Resolved): Promise<SharePayload> {
    const nonce = await onChain('reading the privilege nonce', () =>
      chain.publicClient.readContract({ address: chain.deployment.vehicleId, abi: nodeNftAbi, functionName: 'privilegeNonce', args: [r.row.tokenId, r.grantee as Address] }),
    );
    return setPrivilegesPayload(commands.domain, { tokenId: r.row.tokenId, privIds: r.privIds.map(BigInt), user: r.grantee, expires: BigInt(r.expires), nonce });
  }

  async function submit(user: AuthUser, userDeviceId: string, input: ShareInput, action: 'grant' | 'revoke'): Promise<ShareOutcome> {
    const r = await resolve(user, userDeviceId, input, action);
    const payload = await payloadFor(r);
    if (isBlank(input.signature)) return { kind: 'payload', payload };
    const sig = await commands.verify(
      'signature',
      payload,
      r.owner,
      input.signature,
      () =>
        `The signature does not match the current payload (privilege nonce ${payload.message.nonce}) signed by the vehicle owner ${r.owner}. ` +
        `A signature over an earlier payload is refused once the grantee's privileges have changed; sign a fresh payload from GET …/commands/${action === 'grant' ? 'share' : 'unshare'}.`,
    );
    const m = payload.message;
    const data = encodeFunctionData({
      abi: dimoRegistryAbi,
      functionName: 'setPrivilegesSign',
      args: [BigInt(m.tokenId), m.privIds.map((p) => BigInt(p)), m.user, BigInt(m.expires), BigInt(m.nonce), sig],
    });
    const request = await commands.enqueue(user, async (tx) => {
      // Under the vehicle's row lock: two POSTs for the same grantee cannot both pass the in-flight check.
      await commands.lockVehicle(tx, user, userDeviceId);
      await assertNoneInFlight(tx, r.row.tokenId, r.grantee);
      return {
        kind: KIND,
        data,
        subject: {
          userDeviceId,
          vehicleTokenId: r.row.tokenId.toString(),
          grantee: r.grantee,
          shareKey: `${r.row.tokenId}:${r.grantee}`,
          action,
          privileges: r.privIds.join(','),
          expires: String(r.expires),
        },
      };
    });
    return { kind: 'enqueued', request };
  }

  return {
    /** GET …/commands/share and …/commands/unshare: the payload the owner signs. */
    async payload(user: AuthUser, userDeviceId: string, input: ShareInput, action: 'grant' | 'revoke'): Promise<SharePayload> {
      return payloadFor(await resolve(user, userDeviceId, input, action));
    },

    /** POST …/commands/share and …/commands/unshare: without a signature the payload, with one the relayed request. */
    submit,

    /** GET …/shares: what the owner granted, newest first, ended shares for 30 days. */
    async list(user: AuthUser, userDeviceId: string): Promise<ShareEntry[]> {
      const row = await deps.vehicles.requireOwned(user, userDeviceId);
      const t = now();
      const since = new Date(t.getTime() - SHARE_HISTORY_MS);
      const [requests, held] = await Promise.all([
        requestsForVehicle(db, KIND, userDeviceId),
        row.tokenId === null ? Promise.resolve([]) : privilegesSince(db, row.tokenId, since),
      ]);
      const parsed: ShareRequest[] = requests.map((q) => ({
        id: q.id,
        action: q.subject.action === 'revoke' ? 'revoke' : 'grant',
        grantee: q.subject.grantee ?? '',
        privileges: (q.subject.privileges ?? '').split(',').filter(Boolean).map(Number),
        expires: Number(q.subject.expires ?? 0),
        status: q.status,
        createdAt: q.createdAt,
        updatedAt: q.updatedAt,
      }));
      return deriveShares(parsed, held, t).map((s) => ({
        grantee: s.grantee,
        privileges: s.privileges.map((p) => ({ id: p.id, name: privilegeName(p.id), expiresAt: p.expiresAt })),
        status: s.status,
        requestId: s.requestId,
      }));
    },
  };
}

export type SharingService = ReturnType<typeof createSharingService>;
