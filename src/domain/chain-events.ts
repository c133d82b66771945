// Registry and node-NFT logs decoded into the typed events the indexer applies (CHAIN.md §4).
// Pure: raw JSON-RPC logs in, events out, in chain order. Logs of other contracts, events the
// service does not use and logs that fail to decode are dropped (and counted).
import { decodeEventLog, toEventSelector, type Abi, type Address, type Hex } from 'viem';
import { dimoRegistryAbi, nodeNftAbi } from '../chain/abi/index.ts';

/** Where an event sits in the chain; `blockTime` is the block's timestamp when the node reports it. */
export interface EventPosition {
  blockNumber: bigint;
  logIndex: number;
  txHash: Hex;
  blockHash: Hex;
  blockTime: Date | null;
}

/** Which node NFT a `Transfer` came from. */
export type NftKind = 'vehicle' | 'device' | 'synthetic' | 'manufacturer' | 'integration';

/** Addresses are lower-case 0x hex everywhere below (the database's form). */
export type ChainEvent = EventPosition &
  (
    | { kind: 'ManufacturerMinted'; tokenId: bigint; name: string; owner: string }
    | { kind: 'IntegrationMinted'; tokenId: bigint; owner: string }
    | { kind: 'DeviceMinted'; tokenId: bigint; manufacturerTokenId: bigint; address: string; owner: string }
    | { kind: 'DeviceAttributeSet'; tokenId: bigint; attribute: string; info: string }
    | { kind: 'DeviceClaimed'; tokenId: bigint; owner: string }
    | { kind: 'DeviceUnclaimed'; tokenId: bigint; owner: string }
    | { kind: 'DevicePaired'; tokenId: bigint; vehicleTokenId: bigint }
    | { kind: 'DeviceUnpaired'; tokenId: bigint; vehicleTokenId: bigint }
    | { kind: 'VehicleMinted'; tokenId: bigint; manufacturerTokenId: bigint; owner: string; deviceDefinitionId: string }
    | { kind: 'VehicleAttributeSet'; tokenId: bigint; attribute: string; info: string }
    | { kind: 'SyntheticMinted'; tokenId: bigint; integrationTokenId: bigint; vehicleTokenId: bigint; address: string; owner: string }
    | { kind: 'SyntheticBurned'; tokenId: bigint; vehicleTokenId: bigint }
    | { kind: 'PrivilegeSet'; tokenId: bigint; privilege: bigint; user: string; expires: bigint }
    | { kind: 'Transfer'; nft: NftKind; tokenId: bigint; from: string; to: string }
  );

export type ChainEventKind = ChainEvent['kind'];

/** A log as eth_getLogs returns it (hex quantities), plus `blockTimestamp` where nodes add it. */
export interface RawLog {
  address: string;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex | null;
  blockHash: Hex | null;
  transactionHash: Hex | null;
  logIndex: Hex | null;
  blockTimestamp?: Hex | null;
  removed?: boolean;
}

export interface ContractAddresses {
  registry: Address;
  vehicleId: Address;
  aftermarketDeviceId: Address;
  syntheticDeviceId: Address;
  manufacturerId: Address;
  integrationId: Address;
}

export const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/** The contracts whose logs matter: the registry and every node NFT. */
export function watchedAddresses(a: ContractAddresses): Address[] {
  return [a.registry, a.vehicleId, a.aftermarketDeviceId, a.syntheticDeviceId, a.manufacturerId, a.integrationId];
}

type Args = Record<string, unknown>;
type Mapper = (args: Args) => DistributiveOmit<ChainEvent, keyof EventPosition> | null;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const lower = (v: unknown) => String(v).toLowerCase();
const big = (v: unknown) => v as bigint;

// Registry events by name → event. Only the registry's own address may emit these.
const REGISTRY_EVENTS: Record<string, Mapper> = {
  ManufacturerNodeMinted: (a) => ({ kind: 'ManufacturerMinted', tokenId: big(a.tokenId), name: String(a.name), owner: lower(a.owner) }),
  IntegrationNodeMinted: (a) => ({ kind: 'IntegrationMinted', tokenId: big(a.tokenId), owner: lower(a.owner) }),
  AftermarketDeviceNodeMinted: (a) => ({
    kind: 'DeviceMinted',
    tokenId: big(a.tokenId),
    manufacturerTokenId: big(a.manufacturerId),
    address: lower(a.aftermarketDeviceAddress),
    owner: lower(a.owner),
  }),
  AftermarketDeviceAttributeSet: (a) => ({ kind: 'DeviceAttributeSet', tokenId: big(a.tokenId), attribute: String(a.attribute), info: String(a.info) }),
  AftermarketDeviceClaimed: (a) => ({ kind: 'DeviceClaimed', tokenId: big(a.aftermarketDeviceNode), owner: lower(a.owner) }),
  AftermarketDeviceUnclaimed: (a) => ({ kind: 'DeviceUnclaimed', tokenId: big(a.aftermarketDeviceNode), owner: lower(a.owner) }),
  AftermarketDevicePaired: (a) => ({ kind: 'DevicePaired', tokenId: big(a.aftermarketDeviceNode), vehicleTokenId: big(a.vehicleNode) }),
  AftermarketDeviceUnpaired: (a) => ({ kind: 'DeviceUnpaired', tokenId: big(a.aftermarketDeviceNode), vehicleTokenId: big(a.vehicleNode) }),
  VehicleNodeMintedWithDeviceDefinition: (a) => ({
    kind: 'VehicleMinted',
    tokenId: big(a.vehicleId),
    manufacturerTokenId: big(a.manufacturerId),
    owner: lower(a.owner),
    deviceDefinitionId: String(a.deviceDefinitionId),
  }),
  VehicleAttributeSet: (a) => ({ kind: 'VehicleAttributeSet', tokenId: big(a.tokenId), attribute: String(a.attribute), info: String(a.info) }),
  SyntheticDeviceNodeMinted: (a) => ({
    kind: 'SyntheticMinted',
    tokenId: big(a.syntheticDeviceNode),
    integrationTokenId: big(a.integrationNode),
    vehicleTokenId: big(a.vehicleNode),
    address: lower(a.syntheticDeviceAddress),
    owner: lower(a.owner),
  }),
  SyntheticDeviceNodeBurned: (a) => ({ kind: 'SyntheticBurned', tokenId: big(a.syntheticDeviceNode), vehicleTokenId: big(a.vehicleNode) }),
};

interface Decoder {
  abi: Abi;
  /** Registry event mapper, or null for the NFT events (Transfer, PrivilegeSet). */
  map: Mapper | null;
  name: string;
}

/** topic0 → the one ABI item that decodes it. Built once per process (pure data). */
function buildDecoders(): Map<string, Decoder> {
  const out = new Map<string, Decoder>();
  for (const item of dimoRegistryAbi as Abi) {
    if (item.type !== 'event') continue;
    const map = REGISTRY_EVENTS[item.name];
    if (map) out.set(toEventSelector(item), { abi: [item], map, name: item.name });
  }
  for (const item of nodeNftAbi as Abi) {
    if (item.type === 'event' && (item.name === 'Transfer' || item.name === 'PrivilegeSet')) {
      out.set(toEventSelector(item), { abi: [item], map: null, name: item.name });
    }
  }
  return out;
}

const DECODERS = buildDecoders();

export interface DecodeResult {
  events: ChainEvent[];
  /** Logs from watched contracts that looked like ours but did not decode (wrong layout). */
  undecodable: number;
}

/**
 * Decodes the logs of one block range, sorted into chain order. `Transfer` is taken from the node
 * NFTs only, `PrivilegeSet` from the vehicle NFT only (privileges are vehicle privileges here),
 * every other event from the registry only, so a look-alike contract cannot forge state.
 */
export function decodeLogs(logs: readonly RawLog[], addresses: ContractAddresses): DecodeResult {
  const nftByAddress = new Map<string, NftKind>([
    [addresses.vehicleId.toLowerCase(), 'vehicle'],
    [addresses.aftermarketDeviceId.toLowerCase(), 'device'],
    [addresses.syntheticDeviceId.toLowerCase(), 'synthetic'],
    [addresses.manufacturerId.toLowerCase(), 'manufacturer'],
    [addresses.integrationId.toLowerCase(), 'integration'],
  ]);
  const registry = addresses.registry.toLowerCase();
  const events: ChainEvent[] = [];
  let undecodable = 0;
  for (const log of logs) {
    if (log.removed || log.blockNumber === null || log.logIndex === null || !log.transactionHash || !log.blockHash) continue;
    const topic0 = log.topics[0];
    const decoder = topic0 ? DECODERS.get(topic0.toLowerCase()) : undefined;
    if (!decoder) continue;
    const address = log.address.toLowerCase();
    const nft = nftByAddress.get(address);
    if (decoder.map ? address !== registry : nft === undefined) continue;
    if (decoder.name === 'PrivilegeSet' && nft !== 'vehicle') continue;
    let args: Args;
    try {
      const decoded = decodeEventLog({ abi: decoder.abi, topics: log.topics as [Hex, ...Hex[]], data: log.data, strict: true });
      args = decoded.args as unknown as Args;
    } catch {
      undecodable++;
      continue;
    }
    const position: EventPosition = {
      blockNumber: BigInt(log.blockNumber),
      logIndex: Number(BigInt(log.logIndex)),
      txHash: log.transactionHash.toLowerCase() as Hex,
      blockHash: log.blockHash.toLowerCase() as Hex,
      blockTime: log.blockTimestamp ? new Date(Number(BigInt(log.blockTimestamp)) * 1000) : null,
    };
    let body: ReturnType<Mapper>;
    if (decoder.map) body = decoder.map(args);
    else if (decoder.name === 'Transfer') {
      body = { kind: 'Transfer', nft: nft!, tokenId: big(args.tokenId), from: lower(args.from), to: lower(args.to) };
    } else {
      body = { kind: 'PrivilegeSet', tokenId: big(args.tokenId), privilege: big(args.privId), user: lower(args.user), expires: big(args.expires) };
    }
    if (body) events.push({ ...position, ...body });
  }
  events.sort((x, y) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1));
  return { events, undecodable };
}
