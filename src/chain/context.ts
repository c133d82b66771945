// What the rest of the service knows about the chain: clients, the relayer account, contract
// addresses and confirmation depth. The same shape serves the embedded anvil and any EVM RPC.
import { createPublicClient, createWalletClient, defineChain, http, type Account, type Address, type Chain, type PublicClient } from 'viem';
import type { RegistryDeployment, SignerClient } from './deploy.ts';

export interface ChainContext {
  chain: Chain;
  chainId: number;
  rpcUrl: string;
  publicClient: PublicClient;
  /** Signs and sends relayed transactions; the account is an interface so a KMS signer can replace a local key. */
  relayer: SignerClient;
  relayerAddress: Address;
  deployment: RegistryDeployment;
  /** Blocks a transaction must be buried under before it counts as Confirmed (and events are applied). */
  confirmations: number;
  /** Embedded mode only: signs admin actions (manufacturer/make minting, dev device minting). */
  admin?: SignerClient;
  /**
   * Embedded mode only: resolves once the chain's state through `block` is on disk, so a kill of
   * the whole tree cannot lose it. The indexer applies no block before, so the API never shows
   * what a restart would not find.
   */
  persistThrough?: (block: bigint) => Promise<void>;
}

export interface ChainContextOptions {
  rpcUrl: string;
  chainId: number;
  deployment: RegistryDeployment;
  relayerAccount: Account;
  confirmations: number;
  adminAccount?: Account;
  pollingIntervalMs?: number;
}

export function createChainContext(o: ChainContextOptions): ChainContext {
  const chain = defineChain({
    id: o.chainId,
    name: `chain-${o.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [o.rpcUrl] } },
  });
  const transport = http(o.rpcUrl, { timeout: 10_000, retryCount: 1 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: o.pollingIntervalMs ?? 250, cacheTime: 0 }) as PublicClient;
  const relayer = createWalletClient({ account: o.relayerAccount, chain, transport });
  return {
    chain,
    chainId: o.chainId,
    rpcUrl: o.rpcUrl,
    publicClient,
    relayer,
    relayerAddress: o.relayerAccount.address,
    deployment: o.deployment,
    confirmations: o.confirmations,
    ...(o.adminAccount ? { admin: createWalletClient({ account: o.adminAccount, chain, transport }) } : {}),
  };
}
