// `devices mint`: a manufacturer mints aftermarket device NFTs (one or a CSV batch) straight on the
// chain, as DIMO's manufacturers do; the service's indexer then records them from the events.
// Everything is checked before the first transaction, so a bad list sends nothing.
import type { Address } from 'viem';
import { BaseError, ContractFunctionRevertedError } from 'viem';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import { mintAftermarketDevices, type DeviceToMint } from '../chain/deploy.ts';
import { CliError, type CliChain } from './chain-access.ts';

/** Devices per transaction: a few million gas, well inside a block. */
export const MINT_BATCH_SIZE = 50;

export interface MintedDevice {
  serial: string;
  address: Address;
  tokenId: bigint;
}

export interface MintSummary {
  manufacturer: string;
  manufacturerTokenId: bigint;
  chainId: number;
  devices: MintedDevice[];
}

export async function manufacturerNode(chain: CliChain, name: string): Promise<bigint> {
  const id = await chain.publicClient.readContract({
    address: chain.deployment.registry,
    abi: dimoRegistryAbi,
    functionName: 'getManufacturerIdByName',
    args: [name],
  });
  if (id === 0n) {
    const known = chain.file ? ` (this chain was seeded with ${Object.keys(chain.file.seed.manufacturers).join(', ')})` : '';
    throw new CliError(`No manufacturer named "${name}" on the registry${known}. Names are case-sensitive.`);
  }
  return id;
}

/** Token ids of devices whose address is already registered, by address. */
async function alreadyRegistered(chain: CliChain, devices: readonly DeviceToMint[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const d of devices) {
    const id = await chain.publicClient.readContract({
      address: chain.deployment.registry,
      abi: dimoRegistryAbi,
      functionName: 'getAftermarketDeviceIdByAddress',
      args: [d.address],
    });
    if (id !== 0n) out.set(d.address.toLowerCase(), id);
  }
  return out;
}

function revertName(e: unknown): string | undefined {
  if (!(e instanceof BaseError)) return undefined;
  const r = e.walk((x) => x instanceof ContractFunctionRevertedError);
  return r instanceof ContractFunctionRevertedError ? r.data?.errorName : undefined;
}

export interface MintOptions {
  chain: CliChain;
  manufacturer: string;
  devices: readonly DeviceToMint[];
  /** Devices whose address is already registered: 'fail' (default) or 'skip' (reported as existing). */
  existing?: 'fail' | 'skip';
  batchSize?: number;
  progress?: (msg: string) => void;
}

export async function mintDevices(o: MintOptions): Promise<MintSummary & { existing: MintedDevice[] }> {
  const node = await manufacturerNode(o.chain, o.manufacturer);
  const registered = await alreadyRegistered(o.chain, o.devices);
  if (registered.size && o.existing !== 'skip') {
    const list = o.devices.filter((d) => registered.has(d.address.toLowerCase())).map((d) => `${d.serial} (${d.address}, token ${registered.get(d.address.toLowerCase())})`);
    throw new CliError(`Already minted, nothing was sent: ${list.join('; ')}`);
  }
  const existing = o.devices
    .filter((d) => registered.has(d.address.toLowerCase()))
    .map((d) => ({ serial: d.serial, address: d.address, tokenId: registered.get(d.address.toLowerCase())! }));
  const todo = o.devices.filter((d) => !registered.has(d.address.toLowerCase()));

  const signer = o.chain.manufacturerSigner();
  const size = o.batchSize ?? MINT_BATCH_SIZE;
  const minted: MintSummary['devices'] = [];
  for (let i = 0; i < todo.length; i += size) {
    const batch = todo.slice(i, i + size);
    try {
      const out = await mintAftermarketDevices({
        publicClient: o.chain.publicClient,
        walletClient: signer,
        registry: o.chain.deployment.registry,
        manufacturerNode: node,
        devices: batch,
      });
      for (const d of out) minted.push({ serial: d.serial, address: d.address, tokenId: d.tokenId });
    } catch (e) {
      const name = revertName(e);
      const done = minted.length ? ` ${minted.length} device(s) were minted before this: ${minted.map((m) => `${m.serial}=${m.tokenId}`).join(', ')}.` : '';
      if (name === 'Unauthorized') throw new CliError(`${signer.account.address} may not mint ${o.manufacturer} devices (it neither owns the manufacturer node ${node} nor holds its minter privilege).${done}`);
      throw new CliError(`Minting failed${name ? ` (${name})` : ''}: ${e instanceof BaseError ? e.shortMessage : String(e)}.${done}`);
    }
    o.progress?.(`minted ${minted.length}/${todo.length} ${o.manufacturer} device(s)`);
  }
  return { manufacturer: o.manufacturer, manufacturerTokenId: node, chainId: o.chain.chain.id, devices: minted, existing };
}
