// EIP-712 payloads for the registry's `*Sign` functions (CHAIN.md §1).
//
// Two shapes of the same typed data live here:
// - the JSON payload handed to clients: the `eth_signTypedData_v4` object with `EIP712Domain` in
//   `types`, `chainId` a number, uint256 values as decimal strings, addresses EIP-55 checksummed.
//   It survives JSON.stringify/parse unchanged and MetaMask / viem / ethers sign it as-is;
// - viem's typed-data definition (uint256 as bigint), used to hash and to sign in tests/dev tools.
import { hashTypedData, keccak256, stringToHex } from 'viem';
import type { Address, Hex, TypedDataDomain } from 'viem';
import { parseAddress, toChecksumAddress } from './address.ts';

export const DOMAIN_NAME = 'DIMO';
export const DOMAIN_VERSION = '1';

const MAX_UINT256 = (1n << 256n) - 1n;

/** The domain type; no salt, exactly as the registry hashes it. */
export const EIP712_DOMAIN_FIELDS = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
] as const;

/** A field as EIP-712's encodeType writes it, e.g. `'uint256 vehicleNode'` → `{ name: 'vehicleNode', type: 'uint256' }`. */
type Field<S extends string> = S extends `${infer T} ${infer N}` ? { readonly name: N; readonly type: T } : never;

/** A struct's fields from their encodeType spelling, in order (the order is part of the typehash). */
function fields<const S extends readonly string[]>(...specs: S): { readonly [I in keyof S]: Field<S[I]> } {
  return specs.map((spec) => {
    const [type, name] = spec.split(' ');
    return { name, type };
  }) as { readonly [I in keyof S]: Field<S[I]> };
}

/** Pair and unpair sign the same fields (their typehashes differ only by the type's name). */
const DEVICE_AND_VEHICLE = fields('uint256 aftermarketDeviceNode', 'uint256 vehicleNode');

/** Field lists per primary type; order and spelling are part of the typehash. */
export const REGISTRY_TYPES = {
  ClaimAftermarketDeviceSign: fields('uint256 aftermarketDeviceNode', 'address owner'),
  PairAftermarketDeviceSign: DEVICE_AND_VEHICLE,
  UnPairAftermarketDeviceSign: DEVICE_AND_VEHICLE,
  MintVehicleWithDeviceDefinitionSign: fields('uint256 manufacturerNode', 'address owner', 'string deviceDefinitionId', 'string[] attributes', 'string[] infos'),
  MintSyntheticDeviceSign: fields('uint256 integrationNode', 'uint256 vehicleNode'),
  BurnVehicleSign: fields('uint256 vehicleNode'),
  // Ours (DIMO has no relayed setPrivilege). `nonce` is the vehicle NFT's privilegeNonce(tokenId, user).
  SetPrivilegesSign: fields('uint256 tokenId', 'uint256[] privIds', 'address user', 'uint256 expires', 'uint256 nonce'),
} as const;

export type RegistryPrimaryType = keyof typeof REGISTRY_TYPES;
export const REGISTRY_PRIMARY_TYPES = Object.keys(REGISTRY_TYPES) as RegistryPrimaryType[];

/** Vehicle mint attribute names, in the order the contract hashes them. */
export const VEHICLE_MINT_ATTRIBUTES = ['Make', 'Model', 'Year'] as const;

type SolType = (typeof REGISTRY_TYPES)[RegistryPrimaryType][number]['type'];
type FieldsOf<P extends RegistryPrimaryType> = (typeof REGISTRY_TYPES)[P][number];

type JsonValue<T extends SolType> = T extends 'uint256'
  ? string
  : T extends 'address'
    ? Address
    : T extends 'string'
      ? string
      : string[];

type ViemValue<T extends SolType> = T extends 'uint256'
  ? bigint
  : T extends 'address'
    ? Address
    : T extends 'string'
      ? string
      : T extends 'uint256[]'
        ? readonly bigint[]
        : readonly string[];

/** Message as it appears in the JSON payload (uint256 → decimal string). */
export type JsonMessage<P extends RegistryPrimaryType> = {
  [F in FieldsOf<P> as F['name']]: JsonValue<F['type']>;
};

/** Message as viem takes it (uint256 → bigint). Also the input of the builders. */
export type ViemMessage<P extends RegistryPrimaryType> = {
  [F in FieldsOf<P> as F['name']]: ViemValue<F['type']>;
};

export interface TypedField {
  readonly name: string;
  readonly type: string;
}

export interface PayloadDomain {
  readonly name: typeof DOMAIN_NAME;
  readonly version: typeof DOMAIN_VERSION;
  readonly chainId: number;
  readonly verifyingContract: Address;
}

interface PayloadOf<P extends RegistryPrimaryType> {
  readonly types: { readonly EIP712Domain: readonly TypedField[] } & { readonly [K in P]: readonly TypedField[] };
  readonly primaryType: P;
  readonly domain: PayloadDomain;
  readonly message: JsonMessage<P>;
}

/**
 * The `eth_signTypedData_v4` JSON object served by the GET …/commands/* routes. Without a type
 * argument: the union over all primary types (narrow it on `primaryType`).
 */
export type TypedDataPayload<P extends RegistryPrimaryType = RegistryPrimaryType> = P extends RegistryPrimaryType
  ? PayloadOf<P>
  : never;

/**
 * viem's typed-data definition (what a wallet hashes: no EIP712Domain entry, bigints). `types`
 * is typed loosely on purpose: viem's inference over literal field tables rejects unions of
 * primary types, and the field tables above are the single source of truth anyway.
 */
export interface ViemTypedData<P extends RegistryPrimaryType = RegistryPrimaryType> {
  readonly domain: TypedDataDomain & { chainId: number; verifyingContract: Address };
  readonly types: Readonly<Record<string, readonly TypedField[]>>;
  readonly primaryType: P;
  readonly message: ViemMessage<P>;
}

/** Where payloads are verified: the registry on a given chain. */
export interface RegistryDomainInput {
  readonly chainId: number;
  readonly verifyingContract: string;
}

function fieldsOf(primaryType: RegistryPrimaryType): readonly TypedField[] {
  return REGISTRY_TYPES[primaryType];
}

function copyFields(fields: readonly TypedField[]): TypedField[] {
  // Fresh objects so that a caller mutating one payload cannot alter the shared tables.
  return fields.map((f) => ({ name: f.name, type: f.type }));
}

function checkedUint(value: bigint, field: string): bigint {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${field} is not a uint256: ${value}`);
  return value;
}

function payloadDomain(domain: RegistryDomainInput): PayloadDomain {
  if (!Number.isSafeInteger(domain.chainId) || domain.chainId <= 0) {
    throw new RangeError(`chainId must be a positive integer, got ${domain.chainId}`);
  }
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: toChecksumAddress(domain.verifyingContract),
  };
}

/**
 * Builds the JSON payload for any registry primary type from viem-shaped values. Throws on
 * programmer errors (out-of-range uint, malformed address): inputs come from our own records.
 */
export function buildPayload<P extends RegistryPrimaryType>(
  domain: RegistryDomainInput,
  primaryType: P,
  message: ViemMessage<P>,
): TypedDataPayload<P> {
  const values = message as Record<string, unknown>;
  const json: Record<string, unknown> = {};
  for (const { name, type } of fieldsOf(primaryType)) {
    const v = values[name];
    if (type === 'uint256') json[name] = checkedUint(v as bigint, name).toString(10);
    else if (type === 'uint256[]') json[name] = (v as readonly bigint[]).map((n, i) => checkedUint(n, `${name}[${i}]`).toString(10));
    else if (type === 'address') json[name] = toChecksumAddress(v as string);
    else if (type === 'string[]') json[name] = [...(v as readonly string[])];
    else json[name] = v;
  }
  const types: Record<string, TypedField[]> = {
    EIP712Domain: copyFields(EIP712_DOMAIN_FIELDS),
    [primaryType]: copyFields(fieldsOf(primaryType)),
  };
  const payload: PayloadOf<P> = {
    types: types as unknown as PayloadOf<P>['types'],
    primaryType,
    domain: payloadDomain(domain),
    message: json as JsonMessage<P>,
  };
  return payload as TypedDataPayload<P>;
}

export function claimAftermarketDevicePayload(
  domain: RegistryDomainInput,
  message: { aftermarketDeviceNode: bigint; owner: string },
): TypedDataPayload<'ClaimAftermarketDeviceSign'> {
  return buildPayload(domain, 'ClaimAftermarketDeviceSign', { ...message, owner: toChecksumAddress(message.owner) });
}

export const pairAftermarketDevicePayload = (domain: RegistryDomainInput, message: ViemMessage<'PairAftermarketDeviceSign'>) => buildPayload(domain, 'PairAftermarketDeviceSign', message);

export const unpairAftermarketDevicePayload = (domain: RegistryDomainInput, message: ViemMessage<'UnPairAftermarketDeviceSign'>) => buildPayload(domain, 'UnPairAftermarketDeviceSign', message);

export interface VehicleMintInput {
  manufacturerNode: bigint;
  owner: string;
  deviceDefinitionId: string;
  make: string;
  model: string;
  year: number;
}

export function mintVehiclePayload(
  domain: RegistryDomainInput,
  input: VehicleMintInput,
): TypedDataPayload<'MintVehicleWithDeviceDefinitionSign'> {
  if (!Number.isSafeInteger(input.year)) throw new RangeError(`year must be an integer, got ${input.year}`);
  return buildPayload(domain, 'MintVehicleWithDeviceDefinitionSign', {
    manufacturerNode: input.manufacturerNode,
    owner: toChecksumAddress(input.owner),
    deviceDefinitionId: input.deviceDefinitionId,
    attributes: [...VEHICLE_MINT_ATTRIBUTES],
    infos: [input.make, input.model, String(input.year)],
  });
}

export const mintSyntheticDevicePayload = (domain: RegistryDomainInput, message: ViemMessage<'MintSyntheticDeviceSign'>) => buildPayload(domain, 'MintSyntheticDeviceSign', message);

export const burnVehiclePayload = (domain: RegistryDomainInput, message: ViemMessage<'BurnVehicleSign'>) => buildPayload(domain, 'BurnVehicleSign', message);

export interface SetPrivilegesInput {
  /** The vehicle's token id. */
  tokenId: bigint;
  privIds: readonly bigint[];
  /** The grantee. */
  user: string;
  /** Unix seconds; 0 (or any time in the past) revokes. */
  expires: bigint;
  /** The vehicle NFT's current privilegeNonce(tokenId, user). */
  nonce: bigint;
}

/** Grant (or, with `expires` 0, revoke) privileges on a vehicle: the owner signs, the relayer sends setPrivilegesSign. */
export function setPrivilegesPayload(domain: RegistryDomainInput, input: SetPrivilegesInput): TypedDataPayload<'SetPrivilegesSign'> {
  return buildPayload(domain, 'SetPrivilegesSign', {
    tokenId: input.tokenId,
    privIds: [...input.privIds],
    user: toChecksumAddress(input.user),
    expires: input.expires,
    nonce: input.nonce,
  });
}

/**
 * The `(string attribute, string info)[]` argument of the mint call, paired in the order the
 * owner signed them (the contract re-hashes the arrays in that order).
 */
export function attrInfoPairs(
  message: Pick<JsonMessage<'MintVehicleWithDeviceDefinitionSign'>, 'attributes' | 'infos'>,
): { attribute: string; info: string }[] {
  if (message.attributes.length !== message.infos.length) {
    throw new RangeError('attributes and infos differ in length');
  }
  return message.attributes.map((attribute, i) => ({ attribute, info: message.infos[i] ?? '' }));
}

/** What a wallet does with the JSON payload before hashing: uints → bigint, EIP712Domain dropped. */
export function toViemTypedData<P extends RegistryPrimaryType>(payload: TypedDataPayload<P>): ViemTypedData<P> {
  // The conditional payload type does not narrow `primaryType` back to P by itself.
  const primaryType = payload.primaryType as P;
  const values = payload.message as Record<string, unknown>;
  const message: Record<string, unknown> = {};
  for (const { name, type } of fieldsOf(primaryType)) {
    const v = values[name];
    if (type === 'uint256') message[name] = BigInt(v as string);
    else if (type === 'uint256[]') message[name] = (v as readonly string[]).map((n) => BigInt(n));
    else if (type === 'string[]') message[name] = [...(v as readonly string[])];
    else message[name] = v;
  }
  const types: Record<string, TypedField[]> = {
    [primaryType]: copyFields(fieldsOf(primaryType)),
  };
  return {
    domain: { ...payload.domain },
    types,
    primaryType,
    message: message as ViemMessage<P>,
  };
}

/** The 32-byte EIP-712 digest both the signer and the contract compute. */
export function hashPayload(payload: TypedDataPayload): Hex {
  const typed = toViemTypedData(payload);
  return hashTypedData(typed);
}

/** `Name(type1 name1,type2 name2)`: the string whose keccak is the typehash. */
export function typeString(primaryType: RegistryPrimaryType): string {
  const fields = fieldsOf(primaryType).map((f) => `${f.type} ${f.name}`);
  return `${primaryType}(${fields.join(',')})`;
}

export function typeHash(primaryType: RegistryPrimaryType): Hex {
  return keccak256(stringToHex(typeString(primaryType)));
}

// ---------------------------------------------------------------------------------------------
// Reading a payload back (untrusted JSON, e.g. the dev signing command reading a GET response).

const UINT_DECIMAL = /^[0-9]{1,78}$/;
const UINT_HEX = /^0x[0-9a-fA-F]{1,64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Wallets accept uints as decimal strings, 0x-hex strings (the original Go API sent these) or
// safe JSON numbers; anything else is refused rather than guessed.
function readUint(v: unknown): bigint | null {
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) return null;
    n = BigInt(v);
  } else if (typeof v === 'string' && (UINT_DECIMAL.test(v) || UINT_HEX.test(v))) {
    n = BigInt(v);
  } else {
    return null;
  }
  return n <= MAX_UINT256 ? n : null;
}

function sameFields(actual: unknown, expected: readonly TypedField[]): boolean {
  if (!Array.isArray(actual) || actual.length !== expected.length) return false;
  return expected.every((f, i) => {
    const a: unknown = actual[i];
    return isRecord(a) && a.name === f.name && a.type === f.type;
  });
}

function readMessage(primaryType: RegistryPrimaryType, raw: unknown): Record<string, unknown> | null {
  if (!isRecord(raw)) return null;
  const fields = fieldsOf(primaryType);
  if (Object.keys(raw).length !== fields.length) return null;
  const out: Record<string, unknown> = {};
  for (const { name, type } of fields) {
    const v = raw[name];
    if (type === 'uint256') {
      const n = readUint(v);
      if (n === null) return null;
      out[name] = n;
    } else if (type === 'address') {
      // Strict 0x form here: this is a machine-written payload, not user input.
      if (typeof v !== 'string' || !ADDRESS.test(v)) return null;
      out[name] = parseAddress(v);
    } else if (type === 'string') {
      if (typeof v !== 'string') return null;
      out[name] = v;
    } else if (type === 'uint256[]') {
      if (!Array.isArray(v)) return null;
      const items = v.map(readUint);
      if (items.some((n) => n === null)) return null;
      out[name] = items;
    } else {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return null;
      out[name] = v;
    }
  }
  return out;
}

/**
 * Validates an `eth_signTypedData_v4` object (with or without `EIP712Domain` in `types`) for one
 * of the registry's primary types and returns it in canonical form, or null when it is not one.
 * Domain keys outside the domain type (such as the original API's empty `salt`) are not hashed
 * and are dropped.
 */
export function parsePayload(json: unknown): TypedDataPayload | null {
  if (!isRecord(json) || !isRecord(json.types) || !isRecord(json.domain)) return null;
  const primaryType = json.primaryType;
  if (typeof primaryType !== 'string' || !Object.hasOwn(REGISTRY_TYPES, primaryType)) return null;
  const p = primaryType as RegistryPrimaryType;
  const typeNames = Object.keys(json.types).filter((k) => k !== 'EIP712Domain');
  if (typeNames.length !== 1 || typeNames[0] !== p) return null;
  if (!sameFields(json.types[p], fieldsOf(p))) return null;
  if ('EIP712Domain' in json.types && !sameFields(json.types.EIP712Domain, EIP712_DOMAIN_FIELDS)) return null;

  const d = json.domain;
  if (d.name !== DOMAIN_NAME || d.version !== DOMAIN_VERSION) return null;
  const chainId = readUint(d.chainId);
  if (chainId === null || chainId === 0n || chainId > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  if (typeof d.verifyingContract !== 'string' || !ADDRESS.test(d.verifyingContract)) return null;

  const message = readMessage(p, json.message);
  if (message === null) return null;
  return buildPayload(
    { chainId: Number(chainId), verifyingContract: d.verifyingContract },
    p,
    message as ViemMessage<typeof p>,
  );
}
