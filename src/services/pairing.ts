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
import { encodeFunctionData, getAddress, type Address, type Hex } from 'viem';
import type { Db, Tx } from '../db/engine.ts';
import { findBySerial, findByToken, linkRequests, pairedWith, unpairedOwnedBy, type AftermarketDeviceRow } from '../db/repositories/aftermarket-devices.ts';
import { findInFlight, linkedOrInFlight, statusOf, type MetaTxRow } from '../db/repositories/transaction-requests.ts';
import type { UserDeviceRow } from '../db/repositories/user-devices.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { hashPayload, pairAftermarketDevicePayload, unpairAftermarketDevicePayload, type TypedDataPayload } from '../domain/eip712.ts';
import { isBlank, requireMinted, requireSameVehicle, signedBy, type MintedVehicle } from '../domain/registry-command.ts';
import { isInFlight } from '../domain/relay-state.ts';
import { normaliseSerial } from '../domain/serial.ts';
import { parseSignature } from '../domain/signature.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { badRequest, conflict, notFound } from '../errors.ts';
import { AFTERMARKET_DEVICE_NOT_FOUND } from './aftermarket-devices.ts';
import { createRegistryCommands, type VehicleCommandDeps } from './registry-command.ts';
import { checkSignature, onChain } from './signature-check.ts';

export type PairPayload = TypedDataPayload<'PairAftermarketDeviceSign'>;
export type UnpairPayload = TypedDataPayload<'UnPairAftermarketDeviceSign'>;

/** POST …/aftermarket/commands/pair, aliases resolved by the route. */
export interface PairBody {
  userSignature?: string;
  aftermarketDeviceSignature?: string;
  serial?: string;
}

export type PairingDeps = VehicleCommandDeps;

const lower = (a: string | null | undefined) => a?.toLowerCase() ?? null;

/** 400 unless `value` is well-formed signature bytes (checked before anything is looked up: it tells nothing about the device). */
function requireWellFormed(field: string, value: string): void {
  const parsed = parseSignature(value);
  if (!parsed.ok) throw badRequest(`${field} ${parsed.reason}.`);
}

/** The device belongs to someone other than the caller (claimed by another address). */
const isForeign = (user: AuthUser, d: AftermarketDeviceRow) => d.ownerAddress !== null && d.ownerAddress !== lower(user.address);

const pairSubject = (userDeviceId: string, v: MintedVehicle, d: AftermarketDeviceRow) => ({
  userDeviceId,
  vehicleTokenId: v.tokenId.toString(),
  aftermarketTokenId: d.tokenId.toString(),
  serial: d.serial ?? '',
});

export function createPairingService(deps: PairingDeps) {
  const { db, chain } = deps;
  const commands = createRegistryCommands(deps);

  /** 409 unless the vehicle is minted and not being burned. */
  async function mintedVehicle(tx: Db | Tx, row: UserDeviceRow): Promise<MintedVehicle> {
    const v = requireMinted(row);
    if (isInFlight(await statusOf(tx, row.burnRequestId))) throw conflict('Vehicle is being burned.');
    return v;
  }

  /** The caller's vehicle, minted and not being burned (404 for another user's). */
  const ownedMinted = async (user: AuthUser, userDeviceId: string) => mintedVehicle(db, await deps.vehicles.requireOwned(user, userDeviceId));

  /**
   * Which device: the named serial, else the one claimed-and-unpaired device of the caller's
   * address (400 listing them when there are several, 409 when there is none). An unknown serial
   * is the same 404 as on the by-serial routes.
   */
  async function resolveDevice(tx: Db | Tx, user: AuthUser, serial: string | undefined): Promise<AftermarketDeviceRow> {
    if (!isBlank(serial)) {
      if (normaliseSerial(serial) === null) throw badRequest(`serial "${serial.slice(0, 64)}" is not a valid serial.`);
      const d = await findBySerial(tx, serial);
      if (!d) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
      return d;
    }
    const address = lower(user.address);
    const mine = address ? await unpairedOwnedBy(tx, address, 21) : [];
    if (mine.length === 0) {
      throw conflict('You have no claimed, unpaired aftermarket device; claim one first, or name the device with ?serial=<serial>.');
    }
    if (mine.length > 1) {
      const list = mine.slice(0, 20).map((d) => d.serial ?? `token ${d.tokenId}`);
      throw badRequest(`You have ${mine.length > 20 ? 'more than 20' : mine.length} claimed, unpaired aftermarket devices (${list.join(', ')}); say which with ?serial=<serial> (POST: "serial").`);
    }
    return mine[0]!;
  }

  /** The pairing 409s, each with its own message; `forUpdate` rows when called inside the enqueue transaction. */
  async function assertPairable(tx: Db | Tx, v: MintedVehicle, d: AftermarketDeviceRow): Promise<void> {
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
    const deviceTx = await linkedOrInFlight(tx, d.pairRequestId, 'Pair', 'aftermarketTokenId', d.tokenId.toString());
    if (deviceTx) throw conflict(`Aftermarket device already in the pairing process (request ${deviceTx.id}).`);
    // The original missed this one: a pair of another device with this vehicle still in flight.
    const vehicleTx = await findInFlight(tx, 'Pair', 'vehicleTokenId', v.tokenId.toString());
    if (vehicleTx) throw conflict(`Vehicle already in the pairing process with aftermarket device ${vehicleTx.subject.aftermarketTokenId ?? '?'} (request ${vehicleTx.id}).`);
  }

  /** The device paired with the vehicle, else 409; and no unpair in flight. */
  async function assertUnpairable(tx: Db | Tx, v: MintedVehicle): Promise<AftermarketDeviceRow> {
    const d = await pairedWith(tx, v.tokenId);
    if (!d) throw conflict('Vehicle not paired with an aftermarket device.');
    const inFlight = await linkedOrInFlight(tx, d.unpairRequestId, 'Unpair', 'vehicleTokenId', v.tokenId.toString());
    if (inFlight) throw conflict(`Unpairing already in progress (request ${inFlight.id}).`);
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

  /** No nonce in the typehash: never relay a pair the chain already reflects (or cannot take). */
  async function assertPairableOnChain(v: MintedVehicle, d: AftermarketDeviceRow): Promise<void> {
    const links = await linksOnChain(d.tokenId, v.tokenId);
    if (links.vehicleToAd === d.tokenId && links.adToVehicle === v.tokenId) throw conflict('Specified vehicle and aftermarket device are already paired (on chain).');
    if (links.vehicleToAd !== 0n) throw conflict(`Vehicle already paired with aftermarket device ${links.vehicleToAd} (on chain).`);
    if (links.adToVehicle !== 0n) throw conflict(`Aftermarket device already paired to vehicle ${links.adToVehicle} (on chain).`);
  }

  /** Row locks in one order (vehicle, then device) so that concurrent pair/unpair calls serialise; the vehicle re-checked. */
  async function lockBoth(tx: Tx, user: AuthUser, userDeviceId: string, before: MintedVehicle, deviceToken: bigint) {
    const vehicle = await commands.lockVehicle(tx, user, userDeviceId);
    const device = await findByToken(tx, deviceToken, { forUpdate: true });
    if (!device) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
    requireSameVehicle(before, vehicle);
    return { vehicle: await mintedVehicle(tx, vehicle), device };
  }

  /**
   * Someone else's device: only its key can vouch for the caller; without that it does not exist
   * (404). Answers the device signature then, to relay.
   */
  async function vouchedByDevice(user: AuthUser, d: AftermarketDeviceRow, payload: PairPayload, deviceSignature: string | undefined): Promise<Hex | undefined> {
    if (!isForeign(user, d)) return undefined;
    if (isBlank(deviceSignature)) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
    const check = await checkSignature(chain, 'aftermarketDeviceSignature', hashPayload(payload), getAddress(d.address), deviceSignature);
    if (!check.ok) throw notFound(AFTERMARKET_DEVICE_NOT_FOUND);
    return check.bytes;
  }

  /**
   * The vehicle owner's signature, and the device key's when the owners differ: the registry call
   * to relay (the same-owner form takes one signature, the other form both).
   */
  async function signedPairCall(v: MintedVehicle, d: AftermarketDeviceRow, payload: PairPayload, body: PairBody & { userSignature: string }, vouched: Hex | undefined): Promise<Hex> {
    const device = getAddress(d.address);
    const userSig = await commands.verify('userSignature', payload, v.owner, body.userSignature, (signer) =>
      `userSignature does not match the vehicle owner ${v.owner}${signedBy(signer, { address: device, name: 'the device key' })}. The vehicle NFT's owner must sign the payload from GET …/aftermarket/commands/pair.`,
    );
    if (lower(d.ownerAddress) === lower(v.owner)) {
      return encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'pairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, userSig] });
    }
    let deviceSig = vouched;
    if (!deviceSig) {
      if (isBlank(body.aftermarketDeviceSignature)) {
        throw badRequest('aftermarketDeviceSignature is required: the device and the vehicle have different owners, so the device key must sign the same payload.');
      }
      deviceSig = await commands.verify('aftermarketDeviceSignature', payload, device, body.aftermarketDeviceSignature, (signer) =>
        `aftermarketDeviceSignature does not match the device address ${device}${signedBy(signer, { address: v.owner, name: 'the vehicle owner' })}. The device key must sign the same payload.`,
      );
    }
    return encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'pairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, deviceSig, userSig] });
  }

  /** The vehicle owner's signature of the unpair payload, else the device owner's (transfers can make them differ). */
  async function unpairSignature(v: MintedVehicle, d: AftermarketDeviceRow, payload: UnpairPayload, signature: string): Promise<Hex> {
    const digest = hashPayload(payload);
    const deviceOwner = d.ownerAddress !== null && lower(d.ownerAddress) !== lower(v.owner) ? getAddress(d.ownerAddress) : null;
    let sig = await checkSignature(chain, 'userSignature', digest, v.owner, signature);
    if (!sig.ok && deviceOwner) sig = await checkSignature(chain, 'userSignature', digest, deviceOwner, signature);
    if (sig.ok) return sig.bytes;
    const owners = deviceOwner ? `the vehicle owner ${v.owner} or the device owner ${deviceOwner}` : `the vehicle owner ${v.owner}`;
    throw badRequest(`userSignature does not match ${owners}${signedBy(sig.signer)}. Sign the payload from GET …/aftermarket/commands/unpair.`);
  }

  return {
    /** GET …/aftermarket/commands/pair. */
    async pairPayload(user: AuthUser, userDeviceId: string, serial: string | undefined): Promise<PairPayload> {
      const v = await ownedMinted(user, userDeviceId);
      const d = await resolveDevice(db, user, serial);
      await assertPairable(db, v, d);
      // A device claimed by someone else is served too: host pairing needs the payload before the
      // device key can sign it, and the payload holds only two token ids that are public on chain.
      // Possession is proven at POST (the device signature), where a foreign device without it is a 404.
      return pairAftermarketDevicePayload(commands.domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
    },

    /** POST …/aftermarket/commands/pair → the queued request: validate, authorise, check the chain, enqueue. */
    async pair(user: AuthUser, userDeviceId: string, body: PairBody): Promise<MetaTxRow> {
      const { userSignature, aftermarketDeviceSignature } = body;
      if (isBlank(userSignature)) throw badRequest("userSignature is required: the vehicle owner's signature of the payload from GET …/aftermarket/commands/pair.");
      requireWellFormed('userSignature', userSignature);
      if (!isBlank(aftermarketDeviceSignature)) requireWellFormed('aftermarketDeviceSignature', aftermarketDeviceSignature);

      const v = await ownedMinted(user, userDeviceId);
      const d = await resolveDevice(db, user, body.serial);
      const payload = pairAftermarketDevicePayload(commands.domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
      const vouched = await vouchedByDevice(user, d, payload, aftermarketDeviceSignature);
      await assertPairable(db, v, d);
      const data = await signedPairCall(v, d, payload, { ...body, userSignature }, vouched);

      await assertPairableOnChain(v, d);

      return commands.enqueue(user, async (tx) => {
        const locked = await lockBoth(tx, user, userDeviceId, v, d.tokenId);
        if (lower(locked.device.ownerAddress) !== lower(d.ownerAddress)) throw conflict('The aftermarket device changed owner meanwhile; fetch the payload again.');
        await assertPairable(tx, locked.vehicle, locked.device);
        return {
          kind: 'Pair',
          data,
          subject: pairSubject(userDeviceId, v, d),
          link: (tx, req) => linkRequests(tx, d.tokenId, { pairRequestId: req.id, unpairRequestId: null }),
        };
      });
    },

    /** GET …/aftermarket/commands/unpair. */
    async unpairPayload(user: AuthUser, userDeviceId: string): Promise<UnpairPayload> {
      const v = await ownedMinted(user, userDeviceId);
      const d = await assertUnpairable(db, v);
      return unpairAftermarketDevicePayload(commands.domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
    },

    /** POST …/aftermarket/commands/unpair: signed by the vehicle owner or the device owner. */
    async unpair(user: AuthUser, userDeviceId: string, signature: string | undefined, serial?: string): Promise<MetaTxRow> {
      if (isBlank(signature)) {
        throw badRequest('userSignature is required: the signature of the payload from GET …/aftermarket/commands/unpair by the vehicle owner or the device owner.');
      }
      requireWellFormed('userSignature', signature);
      const v = await ownedMinted(user, userDeviceId);
      const d = await assertUnpairable(db, v);
      // Clients of the original name the device they mean to unpair: it must be the paired one.
      if (serial !== undefined && normaliseSerial(serial) !== d.serial) {
        throw conflict(`AftermarketDevice ${JSON.stringify(serial.trim())} is not the device paired with this vehicle (${d.serial ?? `token ${d.tokenId}`}); nothing unpaired.`);
      }
      const payload = unpairAftermarketDevicePayload(commands.domain, { aftermarketDeviceNode: d.tokenId, vehicleNode: v.tokenId });
      const sig = await unpairSignature(v, d, payload, signature);

      const links = await linksOnChain(d.tokenId, v.tokenId);
      if (links.vehicleToAd !== d.tokenId || links.adToVehicle !== v.tokenId) {
        throw conflict('Vehicle and aftermarket device are no longer paired on chain; nothing to unpair.');
      }
      const data = encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'unpairAftermarketDeviceSign', args: [d.tokenId, v.tokenId, sig] });

      return commands.enqueue(user, async (tx) => {
        const locked = await lockBoth(tx, user, userDeviceId, v, d.tokenId);
        const current = await assertUnpairable(tx, locked.vehicle);
        if (current.tokenId !== d.tokenId) throw conflict('The paired aftermarket device changed meanwhile; fetch the payload again.');
        return {
          kind: 'Unpair',
          data,
          subject: pairSubject(userDeviceId, v, d),
          link: (tx, req) => linkRequests(tx, d.tokenId, { unpairRequestId: req.id }),
        };
      });
    },
  };
}

export type PairingService = ReturnType<typeof createPairingService>;
