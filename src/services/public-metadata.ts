// Public NFT metadata and images for wallets and marketplaces. Device metadata never changes
// once minted (name from the address, serial, manufacturer), so bodies are cached per instance;
// vehicle bodies can change (the owner renames it), so they are cached briefly.
import fs from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/engine.ts';
import { aftermarketDevices, syntheticDevices, userDevices } from '../db/schema.ts';
import { createLru } from '../definitions/lru.ts';
import { aftermarketDeviceMetadata, metadataEtag, syntheticDeviceMetadata, vehicleMetadata, type NftMetadata } from '../domain/nft-metadata.ts';
import { generateDeviceImage, generateVehicleImage } from '../domain/device-image.ts';
import { toChecksumAddress } from '../domain/address.ts';

export interface Cached<T> {
  body: T;
  etag: string;
}

export interface PublicMetadataDeps {
  db: Db;
  publicBaseUrl: string;
  /** Directory with `<manufacturer name, lower-case>.png` images; generated images otherwise. */
  manufacturerImageDir?: string;
  now?: () => number;
  cacheSize?: number;
  vehicleTtlMs?: number;
}

const imageEtag = (png: Buffer, seed: string) => `"img-${seed.slice(2, 18)}-${png.length}"`;

export function createPublicMetadataService(deps: PublicMetadataDeps) {
  const { db, publicBaseUrl } = deps;
  const now = deps.now ?? Date.now;
  const size = deps.cacheSize ?? 10_000;
  const vehicleTtl = deps.vehicleTtlMs ?? 10_000;
  const devices = createLru<string, Cached<NftMetadata>>(size);
  const images = createLru<string, Cached<Buffer>>(Math.min(size, 1000));
  const vehicles = createLru<string, Cached<NftMetadata> & { at: number }>(size);
  const manufacturerImages = new Map<string, Promise<Buffer | null>>();

  const cached = (body: NftMetadata): Cached<NftMetadata> => ({ body, etag: metadataEtag(body) });

  async function deviceRow(where: ReturnType<typeof eq>) {
    const [row] = await db.select().from(aftermarketDevices).where(where).limit(1);
    return row;
  }

  function deviceBody(row: NonNullable<Awaited<ReturnType<typeof deviceRow>>>): Cached<NftMetadata> {
    const key = `ad:${row.tokenId}`;
    let hit = devices.get(key);
    if (!hit) {
      hit = cached(
        aftermarketDeviceMetadata({
          baseUrl: publicBaseUrl,
          tokenId: row.tokenId,
          address: row.address,
          serial: row.serial ?? '',
          manufacturerName: row.manufacturerName,
        }),
      );
      devices.set(key, hit);
    }
    return hit;
  }

  function manufacturerImage(name: string | null): Promise<Buffer | null> {
    if (!deps.manufacturerImageDir || !name) return Promise.resolve(null);
    const file = path.join(deps.manufacturerImageDir, `${name.toLowerCase().replace(/[^a-z0-9-]/g, '')}.png`);
    let p = manufacturerImages.get(file);
    if (!p) {
      p = fs.readFile(file).catch(() => null);
      manufacturerImages.set(file, p);
    }
    return p;
  }

  return {
    async aftermarketDevice(tokenId: bigint): Promise<Cached<NftMetadata> | null> {
      const hit = devices.get(`ad:${tokenId}`);
      if (hit) return hit;
      const row = await deviceRow(eq(aftermarketDevices.tokenId, tokenId));
      return row ? deviceBody(row) : null;
    },

    async aftermarketDeviceByAddress(address: string): Promise<Cached<NftMetadata> | null> {
      const row = await deviceRow(eq(aftermarketDevices.address, address.toLowerCase()));
      return row ? deviceBody(row) : null;
    },

    async aftermarketDeviceImage(tokenId: bigint): Promise<Cached<Buffer> | null> {
      const key = `ad:${tokenId}`;
      const hit = images.get(key);
      if (hit) return hit;
      const row = await deviceRow(eq(aftermarketDevices.tokenId, tokenId));
      if (!row) return null;
      const seed = toChecksumAddress(row.address);
      const png = (await manufacturerImage(row.manufacturerName)) ?? generateDeviceImage({ seed, label: row.manufacturerName });
      const out = { body: png, etag: imageEtag(png, seed) };
      images.set(key, out);
      return out;
    },

    async syntheticDevice(tokenId: bigint): Promise<Cached<NftMetadata> | null> {
      const key = `sd:${tokenId}`;
      const hit = devices.get(key);
      if (hit) return hit;
      const [row] = await db.select().from(syntheticDevices).where(eq(syntheticDevices.tokenId, tokenId)).limit(1);
      if (!row || row.tokenId === null) return null;
      const out = cached(
        syntheticDeviceMetadata({ tokenId: row.tokenId, address: row.address, integrationTokenId: row.integrationTokenId, vehicleTokenId: row.vehicleTokenId }),
      );
      devices.set(key, out);
      return out;
    },

    async vehicle(tokenId: bigint): Promise<Cached<NftMetadata> | null> {
      const key = `v:${tokenId}`;
      const hit = vehicles.get(key);
      if (hit && now() - hit.at < vehicleTtl) return hit;
      const [row] = await db.select().from(userDevices).where(eq(userDevices.tokenId, tokenId)).limit(1);
      if (!row) return null;
      const d = row.definition;
      const out = { ...cached(vehicleMetadata({ baseUrl: publicBaseUrl, tokenId, make: d.make.name, model: d.model, year: d.year, name: row.name })), at: now() };
      vehicles.set(key, out);
      return out;
    },

    async vehicleImage(tokenId: bigint): Promise<Cached<Buffer> | null> {
      const key = `v:${tokenId}`;
      const hit = images.get(key);
      if (hit) return hit;
      const [row] = await db.select().from(userDevices).where(eq(userDevices.tokenId, tokenId)).limit(1);
      if (!row) return null;
      const d = row.definition;
      const seed = `vehicle:${tokenId}`;
      const png = generateVehicleImage({ make: d.make.name, model: d.model, year: d.year, seed });
      const out = { body: png, etag: `"vimg-${tokenId}-${png.length}"` };
      images.set(key, out);
      return out;
    },
  };
}

export type PublicMetadataService = ReturnType<typeof createPublicMetadataService>;
