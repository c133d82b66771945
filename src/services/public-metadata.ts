// Public NFT metadata and images for wallets and marketplaces. Answers are kept per instance,
// serialized and ready to send, for a short time: the rows behind them change through the chain
// (a device's serial is indexed after its mint, burns remove NFTs, a reorg rewinds, owners rename
// vehicles) and the indexer that applies those changes may run in another process, so an age bound
// is what keeps every replica close to the database. Unknown tokens are not kept: indexers poll
// right after a mint and must see it once it is indexed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/engine.ts';
import type { AftermarketDeviceRow } from '../db/repositories/rows.ts';
import { aftermarketDevices, syntheticDevices, userDevices } from '../db/schema.ts';
import { createTtlCache, type TtlCache } from '../lib/ttl-cache.ts';
import { aftermarketDeviceMetadata, metadataEtag, syntheticDeviceMetadata, vehicleMetadata, type NftMetadata } from '../domain/nft-metadata.ts';
import { generateDeviceImage, generateVehicleImage } from '../domain/device-image.ts';
import { toChecksumAddress } from '../domain/address.ts';

/** A response body ready to send (JSON text or PNG bytes) and its entity tag. */
export interface Cached<T extends string | Buffer> {
  body: T;
  etag: string;
}

export interface PublicMetadataDeps {
  db: Db;
  publicBaseUrl: string;
  /** Directory with `<manufacturer name, lower-case>.png` images; generated images otherwise. */
  manufacturerImageDir?: string;
  now?: () => number;
  /** Most metadata bodies kept (images: at most a tenth as many, they are larger). */
  cacheSize?: number;
  /** How long a kept answer is served: the staleness this instance adds to a change. */
  ttlMs?: number;
}

/**
 * Called before a lookup reads the database, never for a kept answer; it may throw to refuse the
 * lookup (the routes charge the caller's rate limit here).
 */
export type BeforeLoad = () => void;

const imageEtag = (png: Buffer, seed: string) => `"img-${seed.slice(2, 18)}-${png.length}"`;

// Property order is the response schema's (name, description, image, attributes), so the text is
// byte for byte what the route's serializer would produce from the same object.
const json = (body: NftMetadata): Cached<string> => ({ body: JSON.stringify(body), etag: metadataEtag(body) });

export function createPublicMetadataService(deps: PublicMetadataDeps) {
  const { db, publicBaseUrl } = deps;
  const size = deps.cacheSize ?? 10_000;
  const cacheOpts = { ttlMs: deps.ttlMs ?? 10_000, now: deps.now };
  const bodies = createTtlCache<Cached<string>>({ capacity: size, ...cacheOpts });
  const images = createTtlCache<Cached<Buffer>>({ capacity: Math.max(1, Math.floor(size / 10)), ...cacheOpts });
  // Operator-provided files, read once per instance.
  const manufacturerImages = new Map<string, Promise<Buffer | null>>();

  async function deviceRow(where: ReturnType<typeof eq>) {
    const [row] = await db.select().from(aftermarketDevices).where(where).limit(1);
    return row;
  }

  function deviceBody(row: AftermarketDeviceRow): Cached<string> {
    return json(
      aftermarketDeviceMetadata({
        baseUrl: publicBaseUrl,
        tokenId: row.tokenId,
        address: row.address,
        serial: row.serial ?? '',
        manufacturerName: row.manufacturerName,
      }),
    );
  }

  /** What a vehicle's metadata and image show, or undefined for an unknown token. */
  async function vehicleFacts(tokenId: bigint) {
    const [row] = await db.select().from(userDevices).where(eq(userDevices.tokenId, tokenId)).limit(1);
    if (!row) return undefined;
    const d = row.definition;
    return { make: d.make.name, model: d.model, year: d.year, name: row.name };
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

  /** A lookup through `cache`: kept answers by `key`, misses from `load` (null: unknown, not kept). */
  function lookup<K, V>(cache: TtlCache<V>, key: (k: K) => string, load: (k: K) => Promise<V | null>) {
    return (k: K, beforeLoad?: BeforeLoad) => cache.get(key(k), () => load(k), beforeLoad);
  }

  async function deviceImage(row: AftermarketDeviceRow): Promise<Cached<Buffer>> {
    const seed = toChecksumAddress(row.address);
    const png = (await manufacturerImage(row.manufacturerName)) ?? generateDeviceImage({ seed, label: row.manufacturerName });
    return { body: png, etag: imageEtag(png, seed) };
  }

  return {
    aftermarketDevice: lookup(bodies, (tokenId: bigint) => `ad:${tokenId}`, async (tokenId) => {
      const row = await deviceRow(eq(aftermarketDevices.tokenId, tokenId));
      return row ? deviceBody(row) : null;
    }),

    aftermarketDeviceByAddress: lookup(bodies, (address: string) => `ada:${address.toLowerCase()}`, async (address) => {
      const row = await deviceRow(eq(aftermarketDevices.address, address.toLowerCase()));
      return row ? deviceBody(row) : null;
    }),

    aftermarketDeviceImage: lookup(images, (tokenId: bigint) => `ad:${tokenId}`, async (tokenId) => {
      const row = await deviceRow(eq(aftermarketDevices.tokenId, tokenId));
      return row ? deviceImage(row) : null;
    }),

    syntheticDevice: lookup(bodies, (tokenId: bigint) => `sd:${tokenId}`, async (tokenId) => {
      const [row] = await db.select().from(syntheticDevices).where(eq(syntheticDevices.tokenId, tokenId)).limit(1);
      if (!row || row.tokenId === null) return null;
      return json(syntheticDeviceMetadata({ tokenId: row.tokenId, address: row.address, integrationTokenId: row.integrationTokenId, vehicleTokenId: row.vehicleTokenId }));
    }),

    vehicle: lookup(bodies, (tokenId: bigint) => `v:${tokenId}`, async (tokenId) => {
      const v = await vehicleFacts(tokenId);
      return v ? json(vehicleMetadata({ baseUrl: publicBaseUrl, tokenId, ...v })) : null;
    }),

    vehicleImage: lookup(images, (tokenId: bigint) => `v:${tokenId}`, async (tokenId) => {
      const v = await vehicleFacts(tokenId);
      if (!v) return null;
      const png = generateVehicleImage({ make: v.make, model: v.model, year: v.year, seed: `vehicle:${tokenId}` });
      return { body: png, etag: `"vimg-${tokenId}-${png.length}"` };
    }),
  };
}

export type PublicMetadataService = ReturnType<typeof createPublicMetadataService>;
