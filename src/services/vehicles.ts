// Use cases for users' vehicles: register, register from VIN, list own and shared, delete.
import type { Db } from '../db/engine.ts';
import type { DefinitionCatalog, DeviceDefinition } from '../definitions/catalog.ts';
import type { DefinitionSnapshot, UserDeviceMetadata } from '../db/schema.ts';
import * as repo from '../db/repositories/user-devices.ts';
import { AppError, ErrorCode, badRequest, conflict, forbidden, notFound } from '../errors.ts';
import { requestsById } from '../db/repositories/transaction-requests.ts';
import type { UserDevice } from '../domain/views.ts';
import type { AuthUser } from '../auth/verifier.ts';
import { parseCountryCode } from '../domain/country.ts';
import { parseVin } from '../domain/vin.ts';
import { createBatcher } from '../domain/batcher.ts';
import { createMonotonicKsuids } from '../domain/ids.ts';
import { loadUserDevices } from './user-device-view.ts';
import { grantAccess, privilegeName } from '../domain/privileges.ts';
import { emitEvent } from '../events/outbox.ts';
import { vehicleEvent } from '../events/payloads.ts';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface VehicleServiceDeps {
  db: Db;
  catalog: DefinitionCatalog;
  publicBaseUrl: string;
  now?: () => Date;
}

export const ownerOf = (user: AuthUser): repo.Owner => ({ userId: user.id, address: user.address?.toLowerCase() ?? null });

export const DEVICE_NOT_FOUND = 'Device not found.';

function snapshot(def: DeviceDefinition): DefinitionSnapshot {
  return {
    id: def.id,
    name: def.name,
    make: { id: def.make.id, name: def.make.name },
    model: def.model,
    year: def.year,
    attributes: def.attributes.map((a) => ({ name: a.name, value: a.value })),
    verified: true,
  };
}

function country(raw: string): string {
  const code = parseCountryCode(raw);
  if (!code) throw badRequest(`countryCode "${raw}" is not an ISO 3166-1 alpha-3 country code (e.g. "USA").`);
  return code;
}

export function createVehicleService(deps: VehicleServiceDeps) {
  const { db, catalog, publicBaseUrl } = deps;
  const now = deps.now ?? (() => new Date());
  // Lists are ordered by id ("newest first"): vehicles registered within one second keep their order.
  const nextId = createMonotonicKsuids();
  const findByIds = repo.prepareFindByIds(db);
  // Concurrent access checks share one round trip (see createBatcher).
  const findOwned = createBatcher(
    async (checks: Array<{ owner: repo.Owner; id: string }>) => {
      const rows = new Map((await findByIds([...new Set(checks.map((c) => c.id))])).map((r) => [r.id, r]));
      return checks.map(({ owner, id }) => {
        const row = rows.get(id);
        return row && repo.isOwnedBy(row, owner) ? row : undefined;
      });
    },
    { maxBatch: 200, maxInFlight: 4 },
  );

  const render = (rows: repo.UserDeviceRow[]): Promise<UserDevice[]> => loadUserDevices(db, rows, publicBaseUrl, now());

  async function page(rows: repo.UserDeviceRow[], limit: number): Promise<Page<UserDevice>> {
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    return { items: await render(items), ...(more ? { nextCursor: items[items.length - 1]!.id } : {}) };
  }

  async function create(user: AuthUser, def: DeviceDefinition, countryCode: string, vin: string | null, canProtocol?: string) {
    const metadata: UserDeviceMetadata = { powertrainType: def.powertrainType, ...(canProtocol ? { canProtocol } : {}) };
    return db.transaction(async (tx) => {
      const row = await repo.insertUserDevice(tx, {
        id: nextId(),
        userId: user.id,
        definitionId: def.id,
        definition: snapshot(def),
        vin,
        countryCode,
        metadata,
      });
      const [view] = await loadUserDevices(tx, [row], publicBaseUrl, now());
      await emitEvent(tx, vehicleEvent('vehicle.registered', row, view!));
      return view!;
    });
  }

  return {
    /** The one access check for a vehicle id in a path: another user's vehicle is a 404. */
    async requireOwned(user: AuthUser, id: string): Promise<repo.UserDeviceRow> {
      const row = await findOwned({ owner: ownerOf(user), id });
      if (!row) throw notFound(DEVICE_NOT_FOUND);
      return row;
    },

    /**
     * Read access for a route that needs `privilege` (issue 14): the owner, or a grantee whose
     * address holds it unexpired now. A grantee without it gets a 403 naming it; anyone holding
     * nothing on the vehicle gets the same 404 as for a vehicle that does not exist.
     */
    async requirePrivilege(user: AuthUser, id: string, privilege: number, what: string): Promise<void> {
      if (await findOwned({ owner: ownerOf(user), id })) return;
      const held = user.address ? await repo.heldPrivilegesByDeviceId(db, id, user.address.toLowerCase(), now()) : [];
      const access = grantAccess(held, privilege, what);
      if (access.allowed) return;
      throw access.status === 403 ? forbidden(access.message) : notFound(DEVICE_NOT_FOUND);
    },

    async register(user: AuthUser, body: { deviceDefinitionId: string; countryCode: string; canProtocol?: string }): Promise<UserDevice> {
      const code = country(body.countryCode);
      const def = await catalog.findById(body.deviceDefinitionId);
      if (!def) throw notFound(`Device definition "${body.deviceDefinitionId}" not found; expected a slug like "ford_bronco_2021".`);
      return create(user, def, code, null, body.canProtocol);
    },

    async registerFromVin(user: AuthUser, body: { vin: string; countryCode: string; canProtocol?: string }): Promise<UserDevice> {
      const parsed = parseVin(body.vin);
      if (!parsed.ok) throw badRequest(parsed.message);
      const code = country(body.countryCode);
      const owner = ownerOf(user);
      const existing = await repo.findByVin(db, parsed.vin);
      const mine = (r: repo.UserDeviceRow) => repo.isOwnedBy(r, owner);
      const takenElsewhere = existing.find((r) => r.tokenId !== null && !mine(r));
      if (takenElsewhere) throw conflict(`VIN ${parsed.vin} already belongs to another user's minted vehicle.`);
      const own = existing.find(mine);
      if (own) return (await render([own]))[0]!;
      const def = await catalog.decodeVin(parsed.vin);
      if (!def) throw new AppError(424, ErrorCode.FailedDependency, `unable to decode vin ${parsed.vin}: no make, model and year found in the NHTSA vPIC data.`);
      return create(user, def, code, parsed.vin, body.canProtocol);
    },

    async listMine(user: AuthUser, limit: number, cursor?: string): Promise<Page<UserDevice>> {
      return page(await repo.listOwned(db, ownerOf(user), limit + 1, cursor), limit);
    },

    async listShared(user: AuthUser, limit: number, cursor?: string): Promise<Page<UserDevice>> {
      if (!user.address) return { items: [] };
      const address = user.address.toLowerCase();
      const shared = await page(await repo.listShared(db, address, now(), limit + 1, cursor), limit);
      // The caller's own privileges, from the rows render() already loaded (unexpired at `now`).
      for (const item of shared.items) {
        const mine = item.privilegedUsers.find((u) => u.address.toLowerCase() === address)?.privileges ?? [];
        item.privileges = mine.map((p) => ({ id: p.id, name: privilegeName(p.id), expiresAt: p.expiry })).sort((a, b) => a.id - b.id);
      }
      return shared;
    },

    async remove(user: AuthUser, id: string): Promise<void> {
      await db.transaction(async (tx) => {
        const row = await repo.findOwned(tx, ownerOf(user), id);
        if (!row) throw notFound(DEVICE_NOT_FOUND);
        if (row.tokenId !== null) {
          const paired = await repo.aftermarketDevicesFor(tx, [row.tokenId]);
          if (paired[0]) throw conflict(`Cannot delete vehicle before unpairing aftermarket device ${paired[0].serial ?? paired[0].tokenId} on-chain; unpair first.`);
          throw conflict(`Vehicle was minted with token id ${row.tokenId}. Burn the NFT first to delete the vehicle.`);
        }
        if (row.mintRequestId) {
          const [mint] = await requestsById(tx, [row.mintRequestId]);
          if (mint && mint.status !== 'Failed') throw conflict('Vehicle minting in progress; wait for it to finish, then burn the NFT to delete this vehicle.');
        }
        const [view] = await loadUserDevices(tx, [row], publicBaseUrl, now());
        await repo.deleteUserDevice(tx, id);
        await emitEvent(tx, vehicleEvent('vehicle.deleted', row, view!));
      });
    },
  };
}

export type VehicleService = ReturnType<typeof createVehicleService>;
