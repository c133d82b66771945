// Before serving, make sure the configured chain is the one we think it is and that the relayer
// can actually relay (CHAIN.md §2). Every problem found is reported at once, each in words that
// say what to fix, and the service refuses to start — a misconfigured chain otherwise shows up
// much later as failed transactions or an indexer reading the wrong contract.
import { formatEther, toFunctionSelector, type Address, type Hex } from 'viem';
import { dimoRegistryAbi } from './abi/index.ts';
import { RELAYER_ROLE_NAMES, roleId, type RoleName } from './deploy.ts';
import type { ChainContext } from './context.ts';
import { ADDRESS_VARS } from './config.ts';

/** Gas a relayed call may take (a vehicle mint with attributes is the largest, well under this). */
export const RELAYED_CALL_GAS = 500_000n;
/** The relayer must afford this many relayed calls at the current gas price, unless a minimum is configured. */
export const MIN_AFFORDABLE_CALLS = 10n;

export class ChainStartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`The chain is not usable, so the service will not start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ChainStartupError';
  }
}

export interface StartupCheckOptions {
  /** Roles the relayer must hold; default RELAYER_ROLE_NAMES. */
  roles?: readonly RoleName[];
  /** Least acceptable relayer balance in wei; default MIN_AFFORDABLE_CALLS × RELAYED_CALL_GAS × gas price. */
  minBalanceWei?: bigint;
}

type Ctx = Pick<ChainContext, 'publicClient' | 'chainId' | 'rpcUrl' | 'relayerAddress' | 'deployment'>;

function reason(e: unknown): string {
  const m = e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e);
  return m.split('\n')[0]!.slice(0, 200);
}

/** The NFT getter on our registry for each deployment field (DIMO's registry lacks them; then the check is skipped). */
const WIRING = {
  manufacturerId: 'manufacturerIdProxyAddress',
  integrationId: 'integrationIdProxyAddress',
  vehicleId: 'vehicleIdProxyAddress',
  aftermarketDeviceId: 'aftermarketDeviceIdProxyAddress',
  syntheticDeviceId: 'syntheticDeviceIdProxyAddress',
} as const;

const SET_PRIVILEGES_SIGN = toFunctionSelector('setPrivilegesSign(uint256,uint256[],address,uint256,uint256,bytes)');

/** Whether runtime code dispatches on a selector: solc compares the call's selector with a PUSH4 of it. */
function dispatches(code: Hex, selector: Hex): boolean {
  return code.toLowerCase().includes(`63${selector.slice(2).toLowerCase()}`);
}

/** Every problem with the chain setup; empty when the service may start. */
export async function chainProblems(ctx: Ctx, opts: StartupCheckOptions = {}): Promise<string[]> {
  const client = ctx.publicClient;
  let remoteChainId: number;
  try {
    remoteChainId = await client.getChainId();
  } catch (e) {
    // Nothing else can be checked without an answering node.
    return [`the chain RPC at ${redactUrl(ctx.rpcUrl)} does not answer (${reason(e)}); check CHAIN_RPC_URL and that the node is up`];
  }
  if (remoteChainId !== ctx.chainId) {
    return [`the RPC at ${redactUrl(ctx.rpcUrl)} serves chain id ${remoteChainId}, but CHAIN_ID is ${ctx.chainId}; point CHAIN_RPC_URL at the right network or fix CHAIN_ID`];
  }

  const problems: string[] = [];
  const d = ctx.deployment;
  const codeless: string[] = [];
  let registryCode: Hex | undefined;
  for (const [field, envName] of Object.entries(ADDRESS_VARS) as [keyof typeof ADDRESS_VARS, string][]) {
    const address = d[field];
    try {
      const code = await client.getCode({ address });
      if (field === 'registry') registryCode = code;
      if (!code || code === '0x') {
        codeless.push(field);
        problems.push(`no contract at ${envName}=${address} on chain ${ctx.chainId}; check the address and the network`);
      }
    } catch (e) {
      codeless.push(field);
      problems.push(`could not read code at ${envName}=${address}: ${reason(e)}`);
    }
  }
  if (codeless.includes('registry')) return problems;

  for (const [field, getter] of Object.entries(WIRING) as [keyof typeof WIRING, (typeof WIRING)[keyof typeof WIRING]][]) {
    if (codeless.includes(field)) continue; // already reported
    let wired: Address;
    try {
      wired = await client.readContract({ address: d.registry, abi: dimoRegistryAbi, functionName: getter });
    } catch {
      continue;
    }
    if (wired.toLowerCase() !== d[field].toLowerCase()) {
      problems.push(`${ADDRESS_VARS[field]}=${d[field]} but the registry at ${d.registry} uses ${wired}; set ${ADDRESS_VARS[field]}=${wired}`);
    }
  }

  const missing: string[] = [];
  for (const role of opts.roles ?? RELAYER_ROLE_NAMES) {
    try {
      const has = await client.readContract({
        address: d.registry,
        abi: dimoRegistryAbi,
        functionName: 'hasRole',
        args: [roleId(role), ctx.relayerAddress],
      });
      if (!has) missing.push(role);
    } catch (e) {
      problems.push(`could not check the relayer's role ${role} on the registry: ${reason(e)}`);
    }
  }
  if (missing.length) {
    problems.push(`the relayer ${ctx.relayerAddress} lacks the registry role(s) ${missing.join(', ')}; an admin must grantRole them (role id = keccak256 of the name), or RELAYER_PRIVATE_KEY is the wrong key`);
  }
  if (missing.includes('SET_PRIVILEGES_ROLE') && registryCode && !dispatches(registryCode, SET_PRIVILEGES_SIGN)) {
    // Granting the role would not help: the contract predates signed sharing.
    problems.push(`the registry at ${d.registry} has no setPrivilegesSign (it was deployed before signed privilege grants); deploy the current contracts, or for the embedded chain delete DATA_DIR to start over`);
  }

  try {
    const head = await client.getBlockNumber({ cacheTime: 0 });
    if (d.deployBlock > head) problems.push(`REGISTRY_DEPLOY_BLOCK=${d.deployBlock} is after the chain's latest block ${head}`);
  } catch (e) {
    problems.push(`could not read the latest block: ${reason(e)}`);
  }

  try {
    const balance = await client.getBalance({ address: ctx.relayerAddress });
    const min = opts.minBalanceWei ?? MIN_AFFORDABLE_CALLS * RELAYED_CALL_GAS * (await client.getGasPrice());
    if (balance === 0n || balance < min) {
      problems.push(`the relayer ${ctx.relayerAddress} has ${formatEther(balance)} of the native coin, less than the ${formatEther(min)} needed for gas; fund it`);
    }
  } catch (e) {
    problems.push(`could not read the relayer's balance: ${reason(e)}`);
  }
  return problems;
}

/** Throws ChainStartupError listing every problem, if there is any. */
export async function assertChainUsable(ctx: Ctx, opts: StartupCheckOptions = {}): Promise<void> {
  const problems = await chainProblems(ctx, opts);
  if (problems.length) throw new ChainStartupError(problems);
}

/** For /ready: the node answers with a block number (the route adds its own timeout). */
export function chainReadiness(ctx: Pick<ChainContext, 'publicClient'>): () => Promise<void> {
  return async () => {
    await ctx.publicClient.getBlockNumber({ cacheTime: 0 });
  };
}

/** RPC URLs often carry an API key in the path or query: keep only scheme, host and port. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search && !u.username ? u.origin : `${u.origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}
