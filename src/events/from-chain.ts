// Webhook events from the chain, emitted by the indexer in the database transaction that applies a
// batch (final blocks only, CHAIN_CONFIRMATIONS) — never on an API call. They are read off the
// batch's row changes (the same before/after images as its undo log), not off the raw logs: a
// batch that changes nothing (a replay, a claim and unclaim in one batch) emits nothing.
//
// A rewind (reorg) hands the undone changes here too, before → after being "as the batch left it"
// → "as restored": undoing a claim is a change owner → none, so it emits
// aftermarket_device.unclaimed, undoing a share emits vehicle.share_revoked, and so on. Mints have
// no reverse type: undoing one emits vehicle.minted.reverted / synthetic_device.minted.reverted.
// Every event of a rewind carries `"reorg": true`.
import { getAddress } from 'viem';
import { inArray, or, sql } from 'drizzle-orm';
import type { Tx } from '../db/engine.ts';
import { aftermarketDevices, metaTransactionRequests, userDevices } from '../db/schema.ts';
import { chainOwnerUserId } from '../domain/chain-effects.ts';
import type { DeviceRow, RowChange, VehicleRow } from '../domain/chain-world.ts';
import type { PrivilegeRow, SyntheticDeviceRow as SyntheticRow } from '../db/repositories/rows.ts';
import type { EventType } from '../domain/events.ts';
import { privilegeName } from '../domain/share-request.ts';
import { loadDeviceFacts, renderDeviceInfo } from '../services/aftermarket-devices.ts';
import { loadUserDevices } from '../services/user-device-view.ts';
import type { UserDevice } from '../domain/views.ts';
import { emitEvents, type NewEvent } from './outbox.ts';

export interface ChainEventOptions {
  publicBaseUrl: string;
  now: Date;
  /** True for the changes a rewind undid. */
  reorg?: boolean;
}

/** What happened, per row, before the rows are read for the events' data. */
type Happening =
  | { kind: 'vehicle'; type: EventType; row: VehicleRow; tokenId: bigint }
  /** `subject`: the image naming whose device it is (before an unclaim, after anything else). */
  | { kind: 'device'; type: EventType; row: DeviceRow; subject: DeviceRow; vehicleTokenId: bigint | null }
  | { kind: 'synthetic'; type: EventType; row: SyntheticRow }
  | { kind: 'share'; type: EventType; tokenId: bigint; grantee: string; privileges: PrivilegeRow[] };

const hasToken = (r: { tokenId: bigint | null } | null): boolean => r !== null && r.tokenId !== null;

/** The events a set of row changes amounts to, in a stable order (devices: claim before pair, unpair before unclaim). */
export function happeningsOf(changes: readonly RowChange[], opts: { now: Date; reorg?: boolean }): Happening[] {
  const out: Happening[] = [];
  const shares = new Map<string, { tokenId: bigint; grantee: string; granted: PrivilegeRow[]; revoked: PrivilegeRow[] }>();
  const active = (p: PrivilegeRow | null) => p !== null && p.expiry.getTime() > opts.now.getTime();
  for (const c of changes) {
    switch (c.table) {
      case 'vehicle': {
        const [b, a] = [c.before as VehicleRow | null, c.after as VehicleRow | null];
        if (!hasToken(b) && hasToken(a)) out.push({ kind: 'vehicle', type: 'vehicle.minted', row: a!, tokenId: a!.tokenId! });
        // A burn has no event type; a mint a reorg took back has.
        else if (hasToken(b) && !hasToken(a) && opts.reorg) out.push({ kind: 'vehicle', type: 'vehicle.minted.reverted', row: a ?? b!, tokenId: b!.tokenId! });
        break;
      }
      case 'device': {
        const [b, a] = [c.before as DeviceRow | null, c.after as DeviceRow | null];
        if (a === null) break; // burned (or a reorg undid its mint): no event type
        const owned = (r: DeviceRow | null) => r !== null && r.ownerAddress !== null;
        const paired = b?.vehicleTokenId ?? null;
        const subject = owned(a) || b === null ? a : b;
        const device = (type: EventType, vehicleTokenId: bigint | null) => out.push({ kind: 'device', type, row: a, subject, vehicleTokenId });
        if (paired !== null && a.vehicleTokenId !== paired) device('aftermarket_device.unpaired', paired);
        if (owned(b) && !owned(a)) device('aftermarket_device.unclaimed', null);
        if (!owned(b) && owned(a)) device('aftermarket_device.claimed', null);
        if (a.vehicleTokenId !== null && a.vehicleTokenId !== paired) device('aftermarket_device.paired', a.vehicleTokenId);
        break;
      }
      case 'synthetic': {
        const [b, a] = [c.before as SyntheticRow | null, c.after as SyntheticRow | null];
        if (!hasToken(b) && hasToken(a)) out.push({ kind: 'synthetic', type: 'synthetic_device.minted', row: a! });
        else if (hasToken(b) && !hasToken(a) && opts.reorg) out.push({ kind: 'synthetic', type: 'synthetic_device.minted.reverted', row: b! });
        break;
      }
      case 'privilege': {
        const [b, a] = [c.before as PrivilegeRow | null, c.after as PrivilegeRow | null];
        const row = (a ?? b)!;
        const key = `${row.tokenId}|${row.userAddress.toLowerCase()}`;
        let s = shares.get(key);
        if (!s) shares.set(key, (s = { tokenId: row.tokenId, grantee: row.userAddress, granted: [], revoked: [] }));
        // A grant, or a grant extended; a revoke is an expiry set in the past (or the row gone).
        if (active(a) && (!active(b) || a!.expiry.getTime() !== b!.expiry.getTime())) s.granted.push(a!);
        else if (active(b) && !active(a)) s.revoked.push(a ?? b!);
        break;
      }
      default:
        break;
    }
  }
  for (const s of shares.values()) {
    if (s.revoked.length) out.push({ kind: 'share', type: 'vehicle.share_revoked', tokenId: s.tokenId, grantee: s.grantee, privileges: s.revoked });
    if (s.granted.length) out.push({ kind: 'share', type: 'vehicle.shared', tokenId: s.tokenId, grantee: s.grantee, privileges: s.granted });
  }
  return out;
}

/** Emits the events of an applied (or, with `reorg`, undone) batch, in the batch's transaction. */
export async function emitChainEvents(tx: Tx, changes: readonly RowChange[], opts: ChainEventOptions): Promise<number> {
  const happenings = happeningsOf(changes, opts);
  if (happenings.length === 0) return 0;

  // The vehicles the events are about, as they are now (this transaction wrote them), by id and
  // by token; a vehicle record a reorg deleted is known only from its change.
  const vehicleIds = new Set<string>();
  const tokens = new Set<bigint>();
  for (const h of happenings) {
    if (h.kind === 'vehicle') vehicleIds.add(h.row.id);
    else if (h.kind === 'synthetic') tokens.add(h.row.vehicleTokenId);
    else if (h.kind === 'share') tokens.add(h.tokenId);
    else if (h.vehicleTokenId !== null) tokens.add(h.vehicleTokenId);
  }
  const current = await tx
    .select()
    .from(userDevices)
    .where(or(vehicleIds.size ? inArray(userDevices.id, [...vehicleIds]) : undefined, tokens.size ? inArray(userDevices.tokenId, [...tokens]) : undefined));
  const vehicles = new Map<string, VehicleRow>(current.map((r) => [r.id, r]));
  for (const h of happenings) if (h.kind === 'vehicle' && !vehicles.has(h.row.id)) vehicles.set(h.row.id, h.row);
  const byToken = new Map<bigint, VehicleRow>();
  for (const c of changes) {
    // Tokens a vehicle gave up in this batch still name it (an unpair or revoke right before a burn).
    if (c.table === 'vehicle' && c.before && (c.before as VehicleRow).tokenId !== null) byToken.set((c.before as VehicleRow).tokenId!, c.before as VehicleRow);
  }
  for (const r of vehicles.values()) if (r.tokenId !== null) byToken.set(r.tokenId, r);

  const views = new Map<string, UserDevice>();
  for (const v of await loadUserDevices(tx, [...vehicles.values()], opts.publicBaseUrl, opts.now)) views.set(v.id, v);

  const devices = await currentDevices(tx, happenings);
  const requesters = await claimRequesters(tx, [...devices.values(), ...happenings.flatMap((h) => (h.kind === 'device' ? [h.subject] : []))]);

  const events: NewEvent[] = [];
  const reorg = opts.reorg ? { reorg: true } : {};
  for (const h of happenings) {
    if (h.kind === 'vehicle') {
      const row = vehicles.get(h.row.id)!;
      const view = views.get(row.id)!;
      events.push({ type: h.type, userId: row.userId, vehicleTokenId: h.tokenId, resource: row.id, data: { userDeviceId: row.id, ...view, ...reorg } });
    } else if (h.kind === 'synthetic') {
      const vehicle = byToken.get(h.row.vehicleTokenId);
      if (!vehicle) continue; // a synthetic device of a vehicle this service does not know
      const integration = views.get(vehicle.id)?.integrations.find((i) => i.integrationId === h.row.integrationTokenId.toString());
      const data = integration ?? { integrationId: h.row.integrationTokenId.toString(), syntheticDevice: { tokenId: h.row.tokenId, address: getAddress(h.row.address) } };
      events.push({ type: h.type, userId: vehicle.userId, vehicleTokenId: h.row.vehicleTokenId, resource: vehicle.id, data: { userDeviceId: vehicle.id, ...data, ...reorg } });
    } else if (h.kind === 'share') {
      const vehicle = byToken.get(h.tokenId);
      if (!vehicle) continue;
      const privileges = h.privileges.map((p) => ({ id: p.privilege, name: privilegeName(p.privilege), expiresAt: p.expiry }));
      events.push({
        type: h.type,
        userId: vehicle.userId,
        vehicleTokenId: h.tokenId,
        resource: vehicle.id,
        // The grantee hears of its share ending too, though it then holds nothing on the vehicle.
        audienceAddress: h.grantee,
        data: { userDeviceId: vehicle.id, vehicleTokenId: h.tokenId, grantee: getAddress(h.grantee), privileges, ...reorg },
      });
    } else {
      const row = devices.get(h.row.tokenId) ?? h.row;
      const vehicle = h.vehicleTokenId !== null ? byToken.get(h.vehicleTokenId) : undefined;
      const info = await renderDeviceInfo(tx, row, await loadDeviceFacts(tx, row), { userDeviceId: vehicle?.id ?? null, viewerId: null });
      const { ownerAddress, userId: loginId } = h.subject;
      const requester = requesters.get(row.tokenId);
      const userId =
        loginId ??
        (requester && ownerAddress && requester.owner === ownerAddress.toLowerCase() ? requester.userId : null) ??
        vehicle?.userId ??
        (ownerAddress ? chainOwnerUserId(ownerAddress) : null);
      if (userId === null) continue; // nobody to tell: never claimed, nor paired with a known vehicle
      events.push({
        type: h.type,
        userId,
        vehicleTokenId: h.vehicleTokenId,
        resource: row.serial ?? row.tokenId.toString(),
        data: { ...info, ...(vehicle ? { userDeviceId: vehicle.id } : {}), ...reorg },
      });
    }
  }
  await emitEvents(tx, events);
  return events.length;
}

/** The devices of the happenings as this transaction left them (their API-owned columns too). */
async function currentDevices(tx: Tx, happenings: readonly Happening[]): Promise<Map<bigint, DeviceRow>> {
  const ids = [...new Set(happenings.flatMap((h) => (h.kind === 'device' ? [h.row.tokenId] : [])))];
  if (ids.length === 0) return new Map();
  const rows = await tx.select().from(aftermarketDevices).where(inArray(aftermarketDevices.tokenId, ids));
  return new Map(rows.map((r) => [r.tokenId, r]));
}

/**
 * The login that asked to claim each device through this service, and for which wallet: its
 * events are that login's while the device is owned by that wallet (not after a transfer).
 */
async function claimRequesters(tx: Tx, devices: readonly DeviceRow[]): Promise<Map<bigint, { userId: string; owner: string }>> {
  const byRequest = new Map(devices.flatMap((d) => (d.claimRequestId ? [[d.claimRequestId, d.tokenId] as const] : [])));
  if (byRequest.size === 0) return new Map();
  const m = metaTransactionRequests;
  const rows = await tx
    .select({ id: m.id, userId: m.userId, owner: sql<string | null>`${m.subject} ->> 'owner'` })
    .from(m)
    .where(inArray(m.id, [...byRequest.keys()]));
  return new Map(rows.flatMap((r) => (r.userId && r.owner ? [[byRequest.get(r.id)!, { userId: r.userId, owner: r.owner.toLowerCase() }] as const] : [])));
}
