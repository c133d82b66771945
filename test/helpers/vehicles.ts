// Inserts vehicle rows (and what hangs off them) directly, for tests of states the API only
// reaches through the chain: minted, owned by an address, mint in flight, shared, paired.
import type { Db } from '../../src/db/engine.ts';
import { aftermarketDevices, metaTransactionRequests, nftPrivileges, userDevices } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';

export const BRONCO_2021 = {
  id: 'ford_bronco_2021',
  name: '2021 Ford Bronco',
  make: { id: 'ford', name: 'Ford' },
  model: 'Bronco',
  year: 2021,
  attributes: [{ name: 'powertrain_type', value: 'ICE' }],
  verified: true,
};

export interface VehicleSeed {
  userId: string;
  id?: string;
  tokenId?: bigint;
  /** Any case; stored lower-case as the schema expects. */
  ownerAddress?: string;
  vin?: string;
  mintRequestId?: string;
  createdAt?: Date;
}

export async function insertVehicle(db: Db, v: VehicleSeed): Promise<string> {
  const id = v.id ?? newKsuid(v.createdAt);
  await db.insert(userDevices).values({
    id,
    userId: v.userId,
    definitionId: BRONCO_2021.id,
    definition: BRONCO_2021,
    vin: v.vin ?? null,
    countryCode: 'USA',
    metadata: { powertrainType: 'ICE' },
    tokenId: v.tokenId ?? null,
    ownerAddress: v.ownerAddress?.toLowerCase() ?? null,
    mintRequestId: v.mintRequestId ?? null,
    ...(v.createdAt ? { createdAt: v.createdAt } : {}),
  });
  return id;
}

/** A meta-transaction row, e.g. a vehicle's mint request in some status. */
export async function insertRequest(db: Db, r: { kind: string; status: string; userId?: string; hash?: string; failureReason?: string }): Promise<string> {
  const id = newKsuid();
  await db.insert(metaTransactionRequests).values({
    id,
    userId: r.userId ?? null,
    kind: r.kind,
    status: r.status,
    toAddress: '0x0000000000000000000000000000000000000001',
    data: '0x',
    hash: r.hash ?? null,
    failureReason: r.failureReason ?? null,
  });
  return id;
}

export async function insertPrivilege(db: Db, p: { tokenId: bigint; privilege: number; address: string; expiry: Date; updatedAt?: Date }) {
  await db.insert(nftPrivileges).values({
    tokenId: p.tokenId,
    privilege: p.privilege,
    userAddress: p.address.toLowerCase(),
    expiry: p.expiry,
    ...(p.updatedAt ? { updatedAt: p.updatedAt } : {}),
  });
}

export async function insertPairedDevice(db: Db, d: { tokenId: bigint; vehicleTokenId: bigint; serial: string; address: string; ownerAddress?: string }) {
  await db.insert(aftermarketDevices).values({
    tokenId: d.tokenId,
    serial: d.serial,
    address: d.address.toLowerCase(),
    ownerAddress: d.ownerAddress?.toLowerCase() ?? null,
    vehicleTokenId: d.vehicleTokenId,
  });
}
