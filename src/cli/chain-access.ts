// How chain CLI commands reach the chain. Embedded: the running server owns DATA_DIR (its lock,
// PGlite and anvil), so the CLI never opens the database; it reads chain.json and
// chain-runtime.json and talks to the server's anvil over JSON-RPC, and the server's indexer picks
// up what the CLI minted from the events. Configured chain (CHAIN_RPC_URL): the CLI uses the same
// settings as the service, plus the manufacturer's key for minting devices.
import { createPublicClient, createWalletClient, defineChain, http, type Chain, type PublicClient } from 'viem';
import { privateKeyToAccount, type Account } from 'viem/accounts';
import type { Config } from '../config.ts';
import type { RegistryDeployment, SignerClient } from '../chain/deploy.ts';
import { devAccount, readChainFile, readChainRuntime, type ChainFile } from '../chain/embedded.ts';
import { parsePrivateKey } from '../chain/config.ts';
import { redactUrl } from '../chain/startup-checks.ts';

export interface CliChain {
  kind: 'embedded' | 'configured';
  chain: Chain;
  publicClient: PublicClient;
  deployment: RegistryDeployment;
  /** Signs for the owner of device makers (manufacturer nodes). */
  manufacturerSigner(): SignerClient;
  /** Embedded only: what the server deployed. */
  file: ChainFile | undefined;
}

/** A problem the user fixes (start the server, set a variable); printed without a stack. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

function clients(rpcUrl: string, chainId: number): { chain: Chain; publicClient: PublicClient } {
  const chain = defineChain({
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl, { timeout: 15_000, retryCount: 1 }), pollingInterval: 100, cacheTime: 0 }) as PublicClient;
  return { chain, publicClient };
}

function signer(chain: Chain, rpcUrl: string, account: Account): SignerClient {
  return createWalletClient({ account, chain, transport: http(rpcUrl, { timeout: 15_000, retryCount: 1 }) });
}

/** Env: MANUFACTURER_PRIVATE_KEY, the key of the manufacturer node's owner (configured chains only). */
export function manufacturerKeyFrom(env: Record<string, string | undefined>): `0x${string}` {
  const raw = env.MANUFACTURER_PRIVATE_KEY?.trim();
  if (!raw) {
    throw new CliError('MANUFACTURER_PRIVATE_KEY is not set: minting devices on a configured chain needs the key of the manufacturer node\'s owner (or of an account holding its minter privilege).');
  }
  const key = parsePrivateKey(raw);
  if (!key) throw new CliError('MANUFACTURER_PRIVATE_KEY must be a 32-byte hex private key (64 hex digits, 0x optional)');
  return key;
}

export async function openCliChain(config: Pick<Config, 'chain' | 'dataDir'>, env: Record<string, string | undefined> = process.env): Promise<CliChain> {
  const c = config.chain;
  if (c.kind === 'configured') {
    const { chain, publicClient } = clients(c.rpcUrl, c.chainId);
    await expectChain(publicClient, c.chainId, `the RPC at ${redactUrl(c.rpcUrl)} (CHAIN_RPC_URL)`);
    return {
      kind: 'configured',
      chain,
      publicClient,
      deployment: c.deployment,
      manufacturerSigner: () => signer(chain, c.rpcUrl, privateKeyToAccount(manufacturerKeyFrom(env))),
      file: undefined,
    };
  }

  const file = readChainFile(config.dataDir);
  if (!file) {
    throw new CliError(`There is no embedded chain in ${config.dataDir} yet. Start the server first (npm start, with the same DATA_DIR); it deploys the registry on its first start.`);
  }
  const runtime = readChainRuntime(config.dataDir);
  if (!runtime) {
    throw new CliError(`The server is not running on ${config.dataDir}. Start it (npm start, with the same DATA_DIR): this command talks to the chain the server runs.`);
  }
  const { chain, publicClient } = clients(runtime.rpcUrl, file.chainId);
  await expectChain(publicClient, file.chainId, `the embedded chain at ${runtime.rpcUrl} (server pid ${runtime.pid})`, 'Is the server still running? Start it with npm start.');
  const code = await publicClient.getCode({ address: file.deployment.registry });
  if (!code || code === '0x') throw new CliError(`The chain at ${runtime.rpcUrl} has no registry at ${file.deployment.registry}: it is not the chain recorded in ${config.dataDir}.`);
  return {
    kind: 'embedded',
    chain,
    publicClient,
    deployment: file.deployment,
    manufacturerSigner: () => signer(chain, runtime.rpcUrl, devAccount(file, 'manufacturerOwner')),
    file,
  };
}

async function expectChain(client: PublicClient, chainId: number, what: string, hint = ''): Promise<void> {
  let id: number;
  try {
    id = await client.getChainId();
  } catch {
    throw new CliError(`${what} does not answer. ${hint}`.trim());
  }
  if (id !== chainId) throw new CliError(`${what} serves chain id ${id}, expected ${chainId}.`);
}
