// Deploys and seeds our registry: used by the embedded mode on first start and by chain tests.
// Every transaction is awaited before the next, so nonces never race and a failure stops early.
import {
  getAddress,
  keccak256,
  parseEventLogs,
  toBytes,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { dimoRegistryAbi, dimoRegistryBytecode, nodeNftAbi, nodeNftBytecode } from './abi/index.ts';

/** A wallet client bound to the account that signs (local key, KMS-backed account, …). */
export type SignerClient = WalletClient<Transport, Chain | undefined, Account>;

export interface RegistryDeployment {
  registry: Address;
  manufacturerId: Address;
  integrationId: Address;
  vehicleId: Address;
  aftermarketDeviceId: Address;
  syntheticDeviceId: Address;
  /** Block of the registry's creation: where an indexer starts reading. */
  deployBlock: bigint;
}

/** Roles the relayer needs for the calls the service relays (DIMO's role names). */
export const RELAYER_ROLE_NAMES = [
  'CLAIM_AD_ROLE',
  'PAIR_AD_ROLE',
  'UNPAIR_AD_ROLE',
  'MINT_VEHICLE_ROLE',
  'BURN_VEHICLE_ROLE',
  'MINT_SD_ROLE',
  'BURN_SD_ROLE',
  'MINT_MANUFACTURER_ROLE',
  'SET_PRIVILEGES_ROLE',
] as const;

/** Extra role for the development-only unclaim route. */
export const DEV_ROLE_NAMES = ['DEV_AD_UNCLAIM_ROLE'] as const;

/** Roles the deployer (admin) keeps so it can seed manufacturers and integrations. */
export const ADMIN_SEED_ROLE_NAMES = ['MINT_MANUFACTURER_ROLE', 'MINT_INTEGRATION_ROLE'] as const;

export type RoleName = (typeof RELAYER_ROLE_NAMES)[number] | (typeof DEV_ROLE_NAMES)[number] | 'MINT_INTEGRATION_ROLE';

/** Role id as the contract computes it: keccak256 of the name. */
export function roleId(name: RoleName): Hex {
  return keccak256(toBytes(name));
}

const NODE_NFTS = {
  manufacturerId: ['DIMO Manufacturer ID', 'DIMO/MANUFACTURER'],
  integrationId: ['DIMO Integration ID', 'DIMO/INTEGRATION'],
  vehicleId: ['DIMO Vehicle ID', 'DIMO/VEHICLE'],
  aftermarketDeviceId: ['DIMO Aftermarket Device ID', 'DIMO/AFTERMARKET_DEVICE'],
  syntheticDeviceId: ['DIMO Synthetic Device ID', 'DIMO/SYNTHETIC_DEVICE'],
} as const;

type NodeKey = keyof typeof NODE_NFTS;

/** Widened so that calls chosen by name at run time type-check. */
const registryAbi: Abi = dimoRegistryAbi;

export interface DeployOptions {
  publicClient: PublicClient;
  /** Deploys and becomes the registry admin. */
  walletClient: SignerClient;
  /** Gets RELAYER_ROLE_NAMES. */
  relayer: Address;
  /** Also grant DEV_ROLE_NAMES to the relayer (embedded / development mode only). */
  devRoles?: boolean;
}

async function confirmed(publicClient: PublicClient, hash: Hash, what: string): Promise<TransactionReceipt> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`${what} reverted (tx ${hash})`);
  return receipt;
}

async function deploy(
  publicClient: PublicClient,
  walletClient: SignerClient,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
  what: string,
): Promise<{ address: Address; blockNumber: bigint }> {
  const hash = await walletClient.deployContract({
    abi,
    bytecode,
    args,
    account: walletClient.account,
    chain: walletClient.chain,
  });
  const receipt = await confirmed(publicClient, hash, `deploying ${what}`);
  if (!receipt.contractAddress) throw new Error(`deploying ${what}: no contract address (tx ${hash})`);
  return { address: getAddress(receipt.contractAddress), blockNumber: receipt.blockNumber };
}

async function write(
  publicClient: PublicClient,
  walletClient: SignerClient,
  request: { address: Address; functionName: string; args: readonly unknown[] },
): Promise<TransactionReceipt> {
  const hash = await walletClient.writeContract({
    abi: registryAbi,
    ...request,
    account: walletClient.account,
    chain: walletClient.chain,
  });
  return confirmed(publicClient, hash, request.functionName);
}

/** Deploys the registry and its five node NFTs, wires them and grants the relayer its roles. */
export async function deployRegistry(opts: DeployOptions): Promise<RegistryDeployment> {
  const { publicClient, walletClient } = opts;
  const admin = walletClient.account.address;
  const registry = await deploy(publicClient, walletClient, dimoRegistryAbi, dimoRegistryBytecode, [admin], 'DimoRegistry');

  const nfts = {} as Record<NodeKey, Address>;
  for (const key of Object.keys(NODE_NFTS) as NodeKey[]) {
    const [name, symbol] = NODE_NFTS[key];
    const nft = await deploy(publicClient, walletClient, nodeNftAbi, nodeNftBytecode, [name, symbol, registry.address], key);
    nfts[key] = nft.address;
  }

  await write(publicClient, walletClient, {
    address: registry.address,
    functionName: 'setNodeContracts',
    args: [nfts.manufacturerId, nfts.integrationId, nfts.vehicleId, nfts.aftermarketDeviceId, nfts.syntheticDeviceId],
  });

  const grants: [RoleName, Address][] = [
    ...RELAYER_ROLE_NAMES.map((r): [RoleName, Address] => [r, opts.relayer]),
    ...(opts.devRoles ? DEV_ROLE_NAMES.map((r): [RoleName, Address] => [r, opts.relayer]) : []),
    ...ADMIN_SEED_ROLE_NAMES.map((r): [RoleName, Address] => [r, admin]),
  ];
  for (const [role, account] of grants) {
    await write(publicClient, walletClient, {
      address: registry.address,
      functionName: 'grantRole',
      args: [roleId(role), account],
    });
  }

  return { registry: registry.address, ...nfts, deployBlock: registry.blockNumber };
}

export const DEFAULT_SEED_MANUFACTURERS = ['AutoPi', 'Macaron'] as const;
export const DEFAULT_SEED_INTEGRATIONS = ['SmartCar', 'Tesla'] as const;

export interface SeedOptions {
  publicClient: PublicClient;
  /** Needs MINT_MANUFACTURER_ROLE and MINT_INTEGRATION_ROLE (the deployer has both). */
  walletClient: SignerClient;
  registry: Address;
  /** Owner of the seeded manufacturers (who may mint their devices); default: the signer. */
  manufacturerOwner?: Address;
  /** Owner of the seeded integrations; default: the signer. */
  integrationOwner?: Address;
  manufacturers?: readonly string[];
  integrations?: readonly string[];
}

export interface SeedResult {
  manufacturers: Record<string, bigint>;
  integrations: Record<string, bigint>;
}

/** Mints the named manufacturers and integrations that do not exist yet; returns all their ids. */
export async function seedRegistry(opts: SeedOptions): Promise<SeedResult> {
  const { publicClient, walletClient, registry } = opts;
  const signer = walletClient.account.address;
  const result: SeedResult = { manufacturers: {}, integrations: {} };

  const kinds = [
    {
      names: opts.manufacturers ?? DEFAULT_SEED_MANUFACTURERS,
      owner: opts.manufacturerOwner ?? signer,
      lookup: 'getManufacturerIdByName',
      mint: 'mintManufacturer',
      out: result.manufacturers,
    },
    {
      names: opts.integrations ?? DEFAULT_SEED_INTEGRATIONS,
      owner: opts.integrationOwner ?? signer,
      lookup: 'getIntegrationIdByName',
      mint: 'mintIntegration',
      out: result.integrations,
    },
  ] as const;

  for (const kind of kinds) {
    for (const name of kind.names) {
      const lookup = () =>
        publicClient.readContract({ address: registry, abi: dimoRegistryAbi, functionName: kind.lookup, args: [name] });
      if ((await lookup()) === 0n) {
        await write(publicClient, walletClient, { address: registry, functionName: kind.mint, args: [kind.owner, name, []] });
      }
      kind.out[name] = await lookup();
    }
  }
  return result;
}

export interface DeviceToMint {
  /** The device's own key address (it signs claim and pair payloads). */
  address: Address;
  serial: string;
}

export interface MintedDevice extends DeviceToMint {
  tokenId: bigint;
}

/** A manufacturer mints aftermarket devices with their `Serial` attribute, in one transaction. */
export async function mintAftermarketDevices(opts: {
  publicClient: PublicClient;
  /** The manufacturer token's owner, or a holder of its minter privilege. */
  walletClient: SignerClient;
  registry: Address;
  manufacturerNode: bigint;
  devices: readonly DeviceToMint[];
}): Promise<MintedDevice[]> {
  const receipt = await write(opts.publicClient, opts.walletClient, {
    address: opts.registry,
    functionName: 'mintAftermarketDeviceByManufacturerBatch',
    args: [
      opts.manufacturerNode,
      opts.devices.map((d) => ({ addr: d.address, attrInfoPairs: [{ attribute: 'Serial', info: d.serial }] })),
    ],
  });
  const logs = parseEventLogs({ abi: dimoRegistryAbi, logs: receipt.logs, eventName: 'AftermarketDeviceNodeMinted' });
  return opts.devices.map((device, i) => {
    const log = logs[i];
    if (!log) throw new Error(`mintAftermarketDevices: no mint event for device ${device.address}`);
    return { ...device, tokenId: log.args.tokenId };
  });
}
