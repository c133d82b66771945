// Chain settings from the environment. Two shapes: the embedded anvil (no CHAIN_RPC_URL: the
// service spawns a local chain and deploys its own registry) and a configured chain (CHAIN_RPC_URL
// set: an existing registry whose addresses, deploy block and relayer key must all be given).
// Production requires the configured shape. Problems are collected, never thrown, and never
// quote a key or mnemonic.
// No viem imports here (types aside): every CLI command reads this configuration, and viem's
// root module costs ~0.5 s of startup. The word list is the one viem/accounts re-exports.
import type { Address, Hex } from 'viem';
import { wordlist as english } from '@scure/bip39/wordlists/english';
import { parseAddress } from '../domain/address.ts';
import type { RegistryDeployment } from './deploy.ts';

/**
 * A development-only mnemonic for synthetic device wallets in embedded mode. It is public (this
 * file is), so wallets derived from it protect nothing; production must set its own.
 */
export const DEV_SYNTHETIC_WALLET_MNEMONIC = 'legal winner thank year wave sausage worth useful legal winner thank yellow';

/** Chain id the embedded anvil uses unless CHAIN_ID says otherwise (anvil's own default). */
export const EMBEDDED_CHAIN_ID = 31337;

/**
 * Confirmation depth: a block is final once its depth (head − number + 1: its own inclusion is the
 * first confirmation, as viem's `waitForTransactionReceipt({confirmations})` and ethers' `wait(n)`
 * count) reaches CHAIN_CONFIRMATIONS, 0 counting as 1. The relayer's Confirmed and the blocks the
 * indexer applies follow this one rule (`finalThrough`). Embedded anvil mines a block per
 * transaction and never reorgs, so 0 — final once mined — is safe there. A public chain defaults
 * to 12.
 */
export const EMBEDDED_CONFIRMATIONS = 0;
export const CONFIGURED_CONFIRMATIONS = 12;

/**
 * How often the indexer looks for new blocks: what the service relays wakes it at once, but
 * changes made elsewhere (a CLI device mint, a wallet's transfer) wait for this poll. A local
 * anvil answers the poll's two calls in well under a millisecond, so the embedded chain is
 * polled five times as often as a remote node.
 */
export function indexerPollMs(c: ChainConfig): number {
  return c.kind === 'embedded' ? 200 : 1000;
}

/** Env names of the deployment addresses, in RegistryDeployment's field names. */
export const ADDRESS_VARS = {
  registry: 'REGISTRY_ADDRESS',
  vehicleId: 'VEHICLE_NFT_ADDRESS',
  aftermarketDeviceId: 'AFTERMARKET_DEVICE_NFT_ADDRESS',
  syntheticDeviceId: 'SYNTHETIC_DEVICE_NFT_ADDRESS',
  manufacturerId: 'MANUFACTURER_NFT_ADDRESS',
  integrationId: 'INTEGRATION_NFT_ADDRESS',
} as const satisfies Record<Exclude<keyof RegistryDeployment, 'deployBlock'>, string>;

export interface EmbeddedChainConfig {
  kind: 'embedded';
  /** CHAIN_ID if set; else the id recorded in DATA_DIR/chain.json, else EMBEDDED_CHAIN_ID. */
  chainId: number | undefined;
  confirmations: number;
  /** Seconds between blocks (ANVIL_BLOCK_TIME); undefined = a block per transaction (automine). */
  blockTime: number | undefined;
  /** Seconds between anvil's state dumps to DATA_DIR/chain-state.json (ANVIL_STATE_INTERVAL). */
  stateInterval: number;
  syntheticWalletMnemonic: string;
}

export interface ConfiguredChainConfig {
  kind: 'configured';
  rpcUrl: string;
  chainId: number;
  deployment: RegistryDeployment;
  relayerPrivateKey: Hex;
  confirmations: number;
  syntheticWalletMnemonic: string;
  /** Least relayer balance (wei) accepted at start (RELAYER_MIN_BALANCE_WEI); default: gas for a few calls at the current price. */
  relayerMinBalanceWei: bigint | undefined;
}

export type ChainConfig = EmbeddedChainConfig | ConfiguredChainConfig;

type Env = Record<string, string | undefined>;

// secp256k1 group order: a private key must be in [1, n-1].
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MNEMONIC_WORDS = new Set(english);

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function parseInteger(env: Env, name: string, min: number, max: number, problems: string[]): number | undefined {
  const v = value(env, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    problems.push(`${name} must be an integer between ${min} and ${max}, got "${v}"`);
    return undefined;
  }
  return Number(v);
}

function parseBig(env: Env, name: string, problems: string[]): bigint | undefined {
  const v = value(env, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,78}$/.test(v)) {
    problems.push(`${name} must be a non-negative integer, got "${v}"`);
    return undefined;
  }
  return BigInt(v);
}

/** A 32-byte hex private key (0x optional) inside the curve's range; null if not one. */
export function parsePrivateKey(raw: string): Hex | null {
  const hex = raw.startsWith('0x') || raw.startsWith('0X') ? raw.slice(2) : raw;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const n = BigInt(`0x${hex}`);
  if (n === 0n || n >= SECP256K1_N) return null;
  return `0x${hex.toLowerCase()}`;
}

/** BIP-39 shape: 12–24 words (a multiple of 3) from the English list. The checksum is not checked. */
export function isMnemonic(raw: string): boolean {
  const words = raw.trim().split(/\s+/);
  return words.length >= 12 && words.length <= 24 && words.length % 3 === 0 && words.every((w) => MNEMONIC_WORDS.has(w));
}

function parseAddressVar(env: Env, name: string, problems: string[]): Address | undefined {
  const v = value(env, name);
  if (v === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{40}$/.test(v)) {
    problems.push(`${name} must be a 0x-prefixed 20-byte hex address, got "${v}"`);
    return undefined;
  }
  // Mixed case carries an EIP-55 checksum; a wrong one is almost always a typo in one character.
  const checksummed = parseAddress(v)!;
  if (v !== v.toLowerCase() && v.slice(2) !== v.slice(2).toUpperCase() && v !== checksummed) {
    problems.push(`${name} has an invalid EIP-55 checksum (write it all lower-case to skip the check)`);
    return undefined;
  }
  return checksummed;
}

function mnemonic(env: Env, prod: boolean, problems: string[]): string {
  const v = value(env, 'SYNTHETIC_WALLET_MNEMONIC');
  if (v === undefined) {
    if (prod) problems.push('SYNTHETIC_WALLET_MNEMONIC is required in production mode (the HD seed of synthetic device wallets)');
    return DEV_SYNTHETIC_WALLET_MNEMONIC;
  }
  if (!isMnemonic(v)) problems.push('SYNTHETIC_WALLET_MNEMONIC must be a BIP-39 English mnemonic of 12 to 24 words');
  return v.split(/\s+/).join(' ');
}

/** Reads the chain settings, appending every problem found to `problems`. */
export function readChainConfig(env: Env, prod: boolean, problems: string[]): ChainConfig {
  const rpcRaw = value(env, 'CHAIN_RPC_URL');
  const chainId = parseInteger(env, 'CHAIN_ID', 1, Number.MAX_SAFE_INTEGER, problems);
  const confirmations = parseInteger(env, 'CHAIN_CONFIRMATIONS', 0, 10_000, problems);
  const syntheticWalletMnemonic = mnemonic(env, prod, problems);

  if (rpcRaw === undefined) {
    if (prod) problems.push('CHAIN_RPC_URL is required in production mode (production never spawns the embedded anvil)');
    const configuredOnly = [...Object.values(ADDRESS_VARS), 'REGISTRY_DEPLOY_BLOCK', 'RELAYER_PRIVATE_KEY', 'RELAYER_MIN_BALANCE_WEI'];
    const stray = configuredOnly.filter((n) => value(env, n) !== undefined);
    if (stray.length) {
      problems.push(`${stray.join(', ')} apply only with CHAIN_RPC_URL (the embedded chain deploys its own registry and relayer); unset them or set CHAIN_RPC_URL`);
    }
    const blockTime = parseInteger(env, 'ANVIL_BLOCK_TIME', 1, 3600, problems);
    return {
      kind: 'embedded',
      chainId,
      confirmations: confirmations ?? EMBEDDED_CONFIRMATIONS,
      blockTime,
      stateInterval: parseInteger(env, 'ANVIL_STATE_INTERVAL', 1, 3600, problems) ?? 2,
      syntheticWalletMnemonic,
    };
  }

  let rpcUrl = rpcRaw;
  try {
    const u = new URL(rpcRaw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') problems.push(`CHAIN_RPC_URL must use http: or https:, got ${u.protocol}`);
  } catch {
    problems.push('CHAIN_RPC_URL is not a valid URL');
    rpcUrl = '';
  }
  for (const n of ['ANVIL_BLOCK_TIME', 'ANVIL_STATE_INTERVAL']) {
    if (value(env, n) !== undefined) problems.push(`${n} applies only to the embedded chain; unset it or unset CHAIN_RPC_URL`);
  }
  const why = 'with CHAIN_RPC_URL';
  if (chainId === undefined && value(env, 'CHAIN_ID') === undefined) problems.push(`CHAIN_ID is required ${why}`);

  const deployment: Partial<Record<keyof RegistryDeployment, unknown>> = {};
  for (const [field, name] of Object.entries(ADDRESS_VARS)) {
    if (value(env, name) === undefined) problems.push(`${name} is required ${why}`);
    else deployment[field as keyof typeof ADDRESS_VARS] = parseAddressVar(env, name, problems);
  }
  const deployBlock = parseBig(env, 'REGISTRY_DEPLOY_BLOCK', problems);
  if (deployBlock === undefined && value(env, 'REGISTRY_DEPLOY_BLOCK') === undefined) {
    problems.push(`REGISTRY_DEPLOY_BLOCK is required ${why} (the block the indexer starts reading at)`);
  }

  const keyRaw = value(env, 'RELAYER_PRIVATE_KEY');
  let relayerPrivateKey: Hex = '0x';
  if (keyRaw === undefined) problems.push(`RELAYER_PRIVATE_KEY is required ${why}`);
  else relayerPrivateKey = parsePrivateKey(keyRaw) ?? (problems.push('RELAYER_PRIVATE_KEY must be a 32-byte hex private key (64 hex digits, 0x optional)'), '0x');

  return {
    kind: 'configured',
    rpcUrl,
    chainId: chainId ?? 0,
    deployment: { ...(deployment as Omit<RegistryDeployment, 'deployBlock'>), deployBlock: deployBlock ?? 0n },
    relayerPrivateKey,
    confirmations: confirmations ?? CONFIGURED_CONFIRMATIONS,
    syntheticWalletMnemonic,
    relayerMinBalanceWei: parseBig(env, 'RELAYER_MIN_BALANCE_WEI', problems),
  };
}
