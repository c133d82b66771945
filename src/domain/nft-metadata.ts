// Public ERC-721 metadata bodies that marketplaces and indexers fetch (API.md §5). Pure: the
// routes look the rows up and pass plain values in.
import { createHash } from 'node:crypto';
import { toChecksumAddress } from './address.ts';
import { deviceName } from './device-name.ts';

export interface NftAttribute {
  trait_type: string;
  value: string;
}

export interface NftMetadata {
  name: string;
  description: string;
  image?: string;
  attributes: NftAttribute[];
}

export interface AftermarketDeviceMetadataInput {
  /** Public base URL without the `/v1` prefix, e.g. `https://devices-api.example.com`. */
  baseUrl: string;
  tokenId: bigint;
  address: string;
  serial: string;
  manufacturerName?: string | null;
}

export interface SyntheticDeviceMetadataInput {
  tokenId: bigint;
  address: string;
  integrationTokenId: bigint;
  vehicleTokenId: bigint;
}

export interface VehicleMetadataInput {
  baseUrl: string;
  tokenId: bigint;
  make: string;
  model: string;
  year: number;
  /** The owner's name for the vehicle; blank or missing falls back to "Make Model Year". */
  name?: string | null;
}

export function aftermarketDeviceMetadata(input: AftermarketDeviceMetadataInput): NftMetadata {
  const name = deviceName(input.address);
  const attributes: NftAttribute[] = [
    { trait_type: 'Ethereum Address', value: toChecksumAddress(input.address) },
    { trait_type: 'Serial Number', value: input.serial },
  ];
  // An addition to the original body, so it goes last: clients index the first two by position.
  const manufacturer = input.manufacturerName?.trim();
  if (manufacturer) attributes.push({ trait_type: 'Manufacturer', value: manufacturer });
  return {
    name,
    description: `${name}, a DIMO hardware device.`,
    image: `${trimBase(input.baseUrl)}/v1/aftermarket/device/${tokenIdString(input.tokenId)}/image`,
    attributes,
  };
}

/** Synthetic devices have no image in the original API; none is invented here. */
export function syntheticDeviceMetadata(input: SyntheticDeviceMetadataInput): NftMetadata {
  tokenIdString(input.tokenId); // validated only: the body does not name its own token
  const name = deviceName(input.address);
  return {
    name,
    description: `${name}, a DIMO synthetic device.`,
    attributes: [
      { trait_type: 'Ethereum Address', value: toChecksumAddress(input.address) },
      { trait_type: 'Integration', value: tokenIdString(input.integrationTokenId) },
      { trait_type: 'Vehicle', value: tokenIdString(input.vehicleTokenId) },
    ],
  };
}

export function vehicleMetadata(input: VehicleMetadataInput): NftMetadata {
  const year = String(input.year);
  const mmy = `${input.make} ${input.model} ${year}`;
  const given = input.name?.trim();
  return {
    name: given ? given : mmy,
    description: `${mmy}, a DIMO vehicle.`,
    image: `${trimBase(input.baseUrl)}/v1/vehicle/${tokenIdString(input.tokenId)}/image`,
    attributes: [
      { trait_type: 'Make', value: input.make },
      { trait_type: 'Model', value: input.model },
      { trait_type: 'Year', value: year },
    ],
  };
}

/**
 * A strong ETag for a metadata body: the quoted first 22 base64url characters (132 bits) of the
 * SHA-256 of its canonical JSON. Key order does not matter, so two equal bodies built in
 * different orders share a tag; attribute order does, since it is part of the representation.
 */
export function metadataEtag(body: NftMetadata): string {
  const digest = createHash('sha256').update(canonicalJson(body)).digest('base64url');
  return `"${digest.slice(0, 22)}"`;
}

/** JSON with object keys sorted at every level and `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

// Token ids are uint256: a negative or oversized one is a caller bug, not something to publish.
function tokenIdString(id: bigint): string {
  if (id < 0n || id >= 1n << 256n) throw new RangeError(`token id out of range: ${id}`);
  return id.toString(10);
}

function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
