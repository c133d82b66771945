// Registry and node-NFT logs decoded into the typed events the indexer applies (CHAIN.md §4).
// Pure: raw JSON-RPC logs in, events out, in chain order. Logs of other contracts, events the
// service does not use and logs that fail to decode are dropped (and counted). The contracts'
// ABIs are passed in (createLogDecoder), so this stays free of the generated chain/abi module.
import { decodeAbiParameters, toEventSelector, type Abi, type AbiEvent, type AbiParameter, type Address, type Hex } from 'viem';

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
  /** Registry event mapper, or null for the NFT events (Transfer, PrivilegeSet). */
  map: Mapper | null;
  name: string;
  indexed: readonly AbiParameter[];
  data: readonly AbiParameter[];
  /** Every data parameter is a uint256 or an address word. */
  staticData: boolean;
}

// Indexed parameters of these events are all static words (uint256, address), read straight
// from the topics; the rest is one decodeAbiParameters call. viem's decodeEventLog re-hashes
// every ABI item's signature per log, which made decoding the indexer's slowest step.
function decoderFor(item: AbiEvent, map: Mapper | null): [string, Decoder] {
  const indexed = item.inputs.filter((i) => i.indexed);
  if (indexed.some((i) => i.type !== 'uint256' && i.type !== 'address')) throw new Error(`${item.name}: unsupported indexed parameter type`);
  const data = item.inputs.filter((i) => !i.indexed);
  const staticData = data.every((i) => i.type === 'uint256' || i.type === 'address');
  return [toEventSelector(item), { map, name: item.name, indexed, data, staticData }];
}

/** The ABIs the events come from: the registry's and the node NFTs' (they share one). */
export interface EventAbis {
  registry: Abi;
  nodeNft: Abi;
}

/** topic0 → how to decode it (pure data). */
function buildDecoders(abis: EventAbis): Map<string, Decoder> {
  const out = new Map<string, Decoder>();
  for (const item of abis.registry) {
    if (item.type !== 'event') continue;
    const map = REGISTRY_EVENTS[item.name];
    if (map) out.set(...decoderFor(item, map));
  }
  for (const item of abis.nodeNft) {
    if (item.type === 'event' && (item.name === 'Transfer' || item.name === 'PrivilegeSet')) out.set(...decoderFor(item, null));
  }
  return out;
}

function decodeArgs(d: Decoder, topics: readonly Hex[], data: Hex): Args | null {
  if (topics.length !== d.indexed.length + 1) return null;
  const args: Args = {};
  d.indexed.forEach((p, i) => {
    const word = topics[i + 1]!;
    args[p.name!] = p.type === 'uint256' ? BigInt(word) : `0x${word.slice(26)}`;
  });
  if (d.data.length === 0) return args;
  if (d.staticData) {
    // Only uint256/address words: read them in place (most logs: PrivilegeSet, pair, claim).
    if (data.length < 2 + 64 * d.data.length) return null;
    d.data.forEach((p, i) => {
      const word = data.slice(2 + 64 * i, 66 + 64 * i);
      args[p.name!] = p.type === 'uint256' ? BigInt(`0x${word}`) : `0x${word.slice(24)}`;
    });
    return args;
  }
  const values = decodeAbiParameters(d.data, data);
  d.data.forEach((p, i) => {
    args[p.name!] = values[i];
  });
  return args;
}

export interface DecodeResult {
  events: ChainEvent[];
  /** Logs from watched contracts that looked like ours but did not decode (wrong layout). */
  undecodable: number;
}

export type LogDecoder = (logs: readonly RawLog[], addresses: ContractAddresses) => DecodeResult;

/** A decoder for these ABIs; build it once (it hashes every event signature). */
export function createLogDecoder(abis: EventAbis): LogDecoder {
  const decoders = buildDecoders(abis);
  return (logs, addresses) => decodeLogs(decoders, logs, addresses);
}

/**
 * Decodes the logs of one block range, sorted into chain order. `Transfer` is taken from the node
 * NFTs only, `PrivilegeSet` from the vehicle NFT only (privileges are vehicle privileges here),
 * every other event from the registry only, so a look-alike contract cannot forge state.
 */
function decodeLogs(decoders: Map<string, Decoder>, logs: readonly RawLog[], addresses: ContractAddresses): DecodeResult {
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
    const decoder = topic0 ? decoders.get(topic0.toLowerCase()) : undefined;
    if (!decoder) continue;
    const address = log.address.toLowerCase();
    const nft = nftByAddress.get(address);
    if (decoder.map ? address !== registry : nft === undefined) continue;
    if (decoder.name === 'PrivilegeSet' && nft !== 'vehicle') continue;
    let args: Args | null;
    try {
      args = decodeArgs(decoder, log.topics, log.data);
    } catch {
      args = null;
    }
    if (!args) {
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
  const before = (x: ChainEvent, y: ChainEvent) => (x.blockNumber === y.blockNumber ? x.logIndex - y.logIndex : x.blockNumber < y.blockNumber ? -1 : 1);
  // Nodes return logs in chain order; sort only if one did not.
  if (events.some((e, i) => i > 0 && before(events[i - 1]!, e) > 0)) events.sort(before);
  return { events, undecodable };
}
