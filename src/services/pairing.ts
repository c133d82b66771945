// Pairing an aftermarket device with a minted vehicle, and unpairing it (API.md §2, CHAIN.md §1).
//
// Who may do what:
// - the caller must own the vehicle (`requireOwned`: another user's vehicle is a 404);
// - the user signature must recover to the vehicle NFT's owner (ECDSA or ERC-1271), not merely
//   to the caller's address (the original compared with the caller and let reverts happen);
// - the device is the caller's (claimed by their address), or — host pairing, B's device on A's
//   vehicle — its key signed the same payload. Owners equal → the same-owner contract form;
//   owners differ → the two-signature form, and the device signature must recover to the device
//   address. A device claimed by someone else and not vouched for by its key answers the same 404
//   as an unknown serial;
// - unpair is signed by the vehicle owner or the device owner (transfers can make them differ).
//
// The typehashes carry no nonce, so a pair signature stays valid forever: after an unpair it can
// pair the same device with the same vehicle again, and a fresh signature of the same payload is
// byte-identical anyway (RFC 6979), so "old" and "new" cannot be told apart. What the service
// guarantees instead: it relays only for the authenticated vehicle owner, only when the signer is
// the vehicle's owner now, and only when the chain (read at POST time, not the indexer's possibly
// lagging copy) says the call would change something — a pair of an already linked vehicle or
// device, or an unpair of an unlinked one, is a 409 and is never relayed.
import { and, eq, isNull } from 'drizzle-orm';
import { encodeFunctionData, getAddress, type Address, type Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { aftermarketDevices, metaTransactionRequests, userDevices } from '../db/schema.ts';
import type { ChainContext } from '../chain/context.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { enqueueTransaction, findInFlight, IN_FLIGHT, type MetaTxRow } from '../chain/outbox.ts';
import { hashPayload, pairAftermarketDevicePayload, unpairAftermarketDevicePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { normaliseSerial } from '../domain/serial.ts';
import { parseSignature } from '../domain/signature.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { ownedBy, type UserDeviceRow } from '../db/repositories/user-devices.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { AFTERMARKET_DEVICE_NOT_FOUND, findBySerial, type AftermarketDeviceRow } from './aftermarket-devices.ts';
import { checkSignature, onChain } from './signature-check.ts';
import { DEVICE_NOT_FOUND, ownerOf, type VehicleService } from './vehicles.ts';

export type PairPayload = TypedDataPayload<'PairAftermarketDeviceSign'>;
export type UnpairPayload = TypedDataPayload<'UnPairAftermarketDeviceSign'>;

/** POST …/aftermarket/commands/pair, aliases resolved by the route. */
export interface PairBody {
  userSignature?: string;
  aftermarketDeviceSignature?: string;
  serial?: string;
}

export interface PairingDeps {
  db: Db;
  chain: ChainContext;
  vehicles: Pick<VehicleService, 'requireOwned'>;
  /** Called after a request is committed (e.g. to wake the relayer). */
  onEnqueued?: (request: MetaTxRow) => void;
}

const isInFlight = (status: string | undefined) => status !== undefined && (IN_FLIGHT as readonly string[]).includes(status);
const lower = (a: string | null | undefined) => a?.toLowerCase() ?? null;

/** A minted vehicle: its token id and NFT owner. */
interface Minted {
  row: UserDeviceRow;
  tokenId: bigint;
  owner: Address;
}

export function createPairingService(deps: PairingDeps) {
  const { db, chain } = deps;
  const domain = { chainId: chain.chainId, verifyingContract: chain.deployment.registry };

  async function statusOf(tx: Db | Tx, id: string | null): Promise<string | undefined> {
    if (!id) return undefined;
    const [r] = await tx.select({ status: metaTransactionRequests.status }).from(metaTransactionRequests).where(eq(metaTransactionRequests.id, id));
    return r?.status;
  }

  /** 409 unless the vehicle is minted and not being burned. */
  async function requireMinted(tx: Db | Tx, row: UserDeviceRow): Promise<Minted> {
    if (row.tokenId === null || row.ownerAddress === null) throw conflict('Vehicle not yet minted.');
    if (isInFlight(await statusOf(tx, row.burnRequestId))) throw conflict('Vehicle is being burned.');
    return { row, tokenId: row.tokenId, owner: getAddress(row.ownerAddress) };
  }

  /** The device paired with the vehicle `tokenId` in the database (the indexer's view), if any. */
  async function pairedWith(tx: Db | Tx, tokenId: bigint): Promise<AftermarketDeviceRow | undefined> {
    const [d] = await tx.select().from(aftermarketDevices).where(eq(aftermarketDevices.vehicleTokenId, tokenId)).limit(1);
    return d;
  }

  /**
   * Which device: the named serial, else the one claimed-and-unpaired device of the caller's
   * address (400 listing them when there are several, 409 when there is none). An unknown serial
   * is the same 404 as on the by-serial routes.
   */
  async function resolveDevice(tx: Db | Tx, user: AuthUser, serial: string | undefined): Promise<AftermarketDeviceRow> {
    if (serial !== undefined && serial !== '') {
      if (normaliseSerial(serial) === null) throw badRequest(`serial "${serial.slice(0, 64)}" is not a valid serial.`);
      const d = await findBySerial(tx, serial);
      if (!d) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
      return d;
    }
    const address = lower(user.address);
    const mine = address
      ? await tx
          .select()
          .from(aftermarketDevices)
          .where(and(eq(aftermarketDevices.ownerAddress, address), isNull(aftermarketDevices.vehicleTokenId)))
          .orderBy(aftermarketDevices.tokenId)
          .limit(21)
      : [];
    if (mine.length === 0) {
      throw conflict('You have no claimed, unpaired aftermarket device; claim one first, or name the device with ?serial=<serial>.');
    }
    if (mine.length > 1) {
      const list = mine.slice(0, 20).map((d) => d.serial ?? `token ${d.tokenId}`);
      throw badRequest(`You have ${mine.length > 20 ? 'more than 20' : mine.length} claimed, unpaired aftermarket devices (${list.join(', ')}); say which with ?serial=<serial> (POST: "serial").`);
    }
    return mine[0]!;
  }

  /** The device belongs to someone other than the caller (claimed by another address). */
  const isForeign = (user: AuthUser, d: AftermarketDeviceRow) => d.ownerAddress !== null && d.ownerAddress !== lower(user.address);

  /** The pairing 409s, each with its own message; `forUpdate` rows when called inside the enqueue transaction. */
  async function assertPairable(tx: Db | Tx, v: Minted, d: AftermarketDeviceRow): Promise<void> {
    const current = await pairedWith(tx, v.tokenId);
    if (current) {
      if (current.tokenId === d.tokenId) throw conflict('Specified vehicle and aftermarket device are already paired.');
      throw conflict(`Vehicle already paired with aftermarket device ${current.tokenId}.`);
    }
    if (d.ownerAddress === null) {
      const claiming = isInFlight(await statusOf(tx, d.claimRequestId));
      throw conflict(claiming ? 'Aftermarket device not yet claimed (its claim is still in progress).' : 'Aftermarket device not yet claimed.');
    }
    if (d.vehicleTokenId !== null) throw conflict(`Aftermarket device already paired to vehicle ${d.vehicleTokenId}.`);
    const deviceTx = isInFlight(await statusOf(tx, d.pairRequestId)) ? d.pairRequestId : (await findInFlight(tx, 'Pair', 'aftermarketTokenId', d.tokenId.toString()))?.id;
    if (deviceTx) throw conflict(`Aftermarket device already in the pairing process (request ${deviceTx}).`);
    // The original missed this one: a pair of another device with this vehicle still in flight.
    const vehicleTx = await findInFlight(tx, 'Pair', 'vehicleTokenId', v.tokenId.toString());
    if (vehicleTx) throw conflict(`Vehicle already in the pairing process with aftermarket device ${vehicleTx.subject.aftermarketTokenId ?? '?'} (request ${vehicleTx.id}).`);
  }

  /** The device paired with the vehicle, else 409; and no unpair in flight. */
  async function assertUnpairable(tx: Db | Tx, v: Minted): Promise<AftermarketDeviceRow> {
    const d = await pairedWith(tx, v.tokenId);
    if (!d) throw conflict('Vehicle not paired with an aftermarket device.');
    const inFlight = isInFlight(await statusOf(tx, d.unpairRequestId)) ? d.unpairRequestId : (await findInFlight(tx, 'Unpair', 'vehicleTokenId', v.tokenId.toString()))?.id;
    if (inFlight) throw conflict(`Unpairing already in progress (request ${inFlight}).`);
    return d;
  }

  /** Both sides of the link as the chain has them now (0n = none). */
  async function linksOnChain(deviceToken: bigint, vehicleToken: bigint): Promise<{ vehicleToAd: bigint; adToVehicle: bigint }> {
    const { registry, vehicleId, aftermarketDeviceId } = chain.deployment;
    const read = (proxy: Address, node: bigint) =>
      chain.publicClient.readContract({ address: registry, abi: dimoRegistryAbi, functionName: 'getLink', args: [proxy, node] });
    const [vehicleToAd, adToVehicle] = await onChain('reading the pairing', () => Promise.all([read(vehicleId, vehicleToken), read(aftermarketDeviceId, deviceToken)]));
    return { vehicleToAd, adToVehicle };
  }

  /** Row locks in one order (vehicle, then device) so that concurrent pair/unpair calls serialise. */
  async function lockBoth(tx: Tx, user: AuthUser, userDeviceId: string, deviceToken: bigint) {
    const [vehicle] = await tx.select().from(userDevices).where(and(eq(userDevices.id, userDeviceId), ownedBy(ownerOf(user)))).for('update');
    if (!vehicle) throw notFound(DEVICE_NOT_FOUND);
    const [device] = await tx.select().from(aftermarketDevices).where(eq(aftermarketDevices.tokenId, deviceToken)).for('update');
    if (!device) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
    return { vehicle, device };
  }

  function sameVehicle(before: Minted, after: UserDeviceRow): void {
    if (after.tokenId !== before.tokenId || lower(after.ownerAddress) !== lower(before.owner)) {
      throw conflict('The vehicle changed meanwhile (token or owner); fetch the payload again.');
    }
  }

  const signedBy = (signer: Address | null, hint: string) => (signer ? `; it was signed by ${signer}${hint}` : '');

  return {
    /** GET …/aftermarket/commands/pair. */
    async pairPayload(user: AuthUser, userDeviceId: string, serial: string | undefined): Promise<PairPayload> {
      const v = await requireMinted(db, await deps.vehicles.requireOwned(user, userDeviceId));
      const d = await resolveDevice(db, user, serial);
      await assertPairable(db, v, d);
      // A device claimed by someone else is served too: host pairing needs the payload before the
      // device key can sign it, and the payload holds only two token ids that are public on chain.
      // Possession is proven at POST (the device signature), where a foreign device without it is a 404.
      return pairAftermarketDevicePayload(domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
    },

    /** POST …/aftermarket/commands/pair → the queued request. */
    async pair(user: AuthUser, userDeviceId: string, body: PairBody): Promise<MetaTxRow> {
      const blank = (s: string | undefined) => s === undefined || s === '';
      if (blank(body.userSignature)) throw badRequest("userSignature is required: the vehicle owner's signature of the payload from GET …/aftermarket/commands/pair.");
      // Malformed bytes are a 400 before anything is looked up (it tells nothing about the device).
      const userParsed = parseSignature(body.userSignature);
      if (!userParsed.ok) throw badRequest(`userSignature ${userParsed.reason}.`);
      const deviceSigGiven = !blank(body.aftermarketDeviceSignature);
      if (deviceSigGiven) {
        const p = parseSignature(body.aftermarketDeviceSignature);
        if (!p.ok) throw badRequest(`aftermarketDeviceSignature ${p.reason}.`);
      }

      const v = await requireMinted(db, await deps.vehicles.requireOwned(user, userDeviceId));
      const d = await resolveDevice(db, user, body.serial);
      const payload = pairAftermarketDevicePayload(domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
      const digest = hashPayload(payload);
      const device = getAddress(d.address);

      // Someone else's device: only its key can vouch for the caller; without that it does not exist.
      let deviceSig: Hex | undefined;
      if (isForeign(user, d)) {
        if (!deviceSigGiven) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
        const check = await checkSignature(chain, 'aftermarketDeviceSignature', digest, device, body.aftermarketDeviceSignature);
        if (!check.ok) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
        deviceSig = check.bytes;
      }
      await assertPairable(db, v, d);

      const userSig = await checkSignature(chain, 'userSignature', digest, v.owner, body.userSignature);
      if (!userSig.ok) {
        const hint = userSig.signer?.toLowerCase() === device.toLowerCase() ? ' (the device key: are the two signatures swapped?)' : '';
        throw badRequest(`userSignature does not match the vehicle owner ${v.owner}${signedBy(userSig.signer, hint)}. The vehicle NFT's owner must sign the payload from GET …/aftermarket/commands/pair.`);
      }
      const sameOwner = lower(d.ownerAddress) === lower(v.owner);
      if (!sameOwner && !deviceSig) {
        if (!deviceSigGiven) {
          throw badRequest('aftermarketDeviceSignature is required: the device and the vehicle have different owners, so the device key must sign the same payload.');
        }
        const check = await checkSignature(chain, 'aftermarketDeviceSignature', digest, device, body.aftermarketDeviceSignature);
        if (!check.ok) {
          const hint = check.signer?.toLowerCase() === v.owner.toLowerCase() ? ' (the vehicle owner: are the two signatures swapped?)' : '';
          throw badRequest(`aftermarketDeviceSignature does not match the device address ${device}${signedBy(check.signer, hint)}. The device key must sign the same payload.`);
        }
        deviceSig = check.bytes;
      }

      // No nonce in the typehash: never relay a pair the chain already reflects (or cannot take).
      const links = await linksOnChain(d.tokenId, v.tokenId);
      if (links.vehicleToAd === d.tokenId && links.adToVehicle === v.tokenId) throw conflict('Specified vehicle and aftermarket device are already paired (on chain).');
      if (links.vehicleToAd !== 0n) throw conflict(`Vehicle already paired with aftermarket device ${links.vehicleToAd} (on chain).`);
      if (links.adToVehicle !== 0n) throw conflict(`Aftermarket device already paired to vehicle ${links.adToVehicle} (on chain).`);

      const data = sameOwner
        ? encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'pairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, userSig.bytes] })
        : encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'pairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, deviceSig!, userSig.bytes] });

      const request = await db.transaction(async (tx) => {
        const locked = await lockBoth(tx, user, userDeviceId, d.tokenId);
        sameVehicle(v, locked.vehicle);
        const lv = await requireMinted(tx, locked.vehicle);
        if (lower(locked.device.ownerAddress) !== lower(d.ownerAddress)) throw conflict('The aftermarket device changed owner meanwhile; fetch the payload again.');
        await assertPairable(tx, lv, locked.device);
        const req = await enqueueTransaction(tx, {
          kind: 'Pair',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { userDeviceId, vehicleTokenId: v.tokenId.toString(), aftermarketTokenId: d.tokenId.toString(), serial: d.serial ?? '' },
        });
        await tx.update(aftermarketDevices).set({ pairRequestId: req.id, unpairRequestId: null, updatedAt: new Date() }).where(eq(aftermarketDevices.tokenId, d.tokenId));
        return req;
      });
      deps.onEnqueued?.(request);
      return request;
    },

    /** GET …/aftermarket/commands/unpair. */
    async unpairPayload(user: AuthUser, userDeviceId: string): Promise<UnpairPayload> {
      const v = await requireMinted(db, await deps.vehicles.requireOwned(user, userDeviceId));
      const d = await assertUnpairable(db, v);
      return unpairAftermarketDevicePayload(domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
    },

    /** POST …/aftermarket/commands/unpair: signed by the vehicle owner or the device owner. */
    async unpair(user: AuthUser, userDeviceId: string, signature: string | undefined, serial?: string): Promise<MetaTxRow> {
      if (signature === undefined || signature === '') {
        throw badRequest('userSignature is required: the signature of the payload from GET …/aftermarket/commands/unpair by the vehicle owner or the device owner.');
      }
      const parsed = parseSignature(signature);
      if (!parsed.ok) throw badRequest(`userSignature ${parsed.reason}.`);
      const v = await requireMinted(db, await deps.vehicles.requireOwned(user, userDeviceId));
      const d = await assertUnpairable(db, v);
      // Clients of the original name the device they mean to unpair: it must be the paired one.
      if (serial !== undefined && normaliseSerial(serial) !== d.serial) {
        throw conflict(`AftermarketDevice ${JSON.stringify(serial.trim())} is not the device paired with this vehicle (${d.serial ?? `token ${d.tokenId}`}); nothing unpaired.`);
      }
      const payload = unpairAftermarketDevicePayload(domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
      const digest = hashPayload(payload);

      let sig = await checkSignature(chain, 'userSignature', digest, v.owner, signature);
      if (!sig.ok && d.ownerAddress !== null && lower(d.ownerAddress) !== lower(v.owner)) {
        sig = await checkSignature(chain, 'userSignature', digest, getAddress(d.ownerAddress), signature);
      }
      if (!sig.ok) {
        const owners = d.ownerAddress && lower(d.ownerAddress) !== lower(v.owner) ? `the vehicle owner ${v.owner} or the device owner ${getAddress(d.ownerAddress)}` : `the vehicle owner ${v.owner}`;
        throw badRequest(`userSignature does not match ${owners}${signedBy(sig.signer, '')}. Sign the payload from GET …/aftermarket/commands/unpair.`);
      }

      const links = await linksOnChain(d.tokenId, v.tokenId);
      if (links.vehicleToAd !== d.tokenId || links.adToVehicle !== v.tokenId) {
        throw conflict('Vehicle and aftermarket device are no longer paired on chain; nothing to unpair.');
      }
      const data = encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'unpairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, sig.bytes] });

      const request = await db.transaction(async (tx) => {
        const locked = await lockBoth(tx, user, userDeviceId, d.tokenId);
        sameVehicle(v, locked.vehicle);
        const lv = await requireMinted(tx, locked.vehicle);
        const current = await assertUnpairable(tx, lv);
        if (current.tokenId !== d.tokenId) throw conflict('The paired aftermarket device changed meanwhile; fetch the payload again.');
        const req = await enqueueTransaction(tx, {
          kind: 'Unpair',
          userId: user.id,
          to: chain.deployment.registry,
          data,
          subject: { userDeviceId, vehicleTokenId: v.tokenId.toString(), aftermarketTokenId: d.tokenId.toString(), serial: d.serial ?? '' },
        });
        await tx.update(aftermarketDevices).set({ unpairRequestId: req.id, updatedAt: new Date() }).where(eq(aftermarketDevices.tokenId, d.tokenId));
        return req;
      });
      deps.onEnqueued?.(request);
      return request;
    },
  };
}

export type PairingService = ReturnType<typeof createPairingService>;
