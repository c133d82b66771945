// Shared setup for chain tests: an anvil of the file's own, the registry deployed and seeded,
// named accounts, EIP-712 signing and revert matching.
import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  parseEventLogs,
  type Account,
  type Address,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TestClient,
  type TransactionReceipt,
  type Abi,
  type TypedData,
} from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { startAnvil, DEFAULT_ANVIL_MNEMONIC, type AnvilInstance } from '../../src/chain/anvil.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import {
  deployRegistry,
  seedRegistry,
  type RegistryDeployment,
  type SeedResult,
  type SignerClient,
} from '../../src/chain/deploy.ts';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { createChainContext, type ChainContext } from '../../src/chain/context.ts';
import { DOMAIN_NAME, DOMAIN_VERSION, REGISTRY_TYPES } from '../../src/domain/eip712.ts';

// The service's field tables, plus the one type the contract knows but the API never hands out.
export const registryTypes = {
  ...REGISTRY_TYPES,
  BurnSyntheticDeviceSign: [
    { name: 'vehicleNode', type: 'uint256' },
    { name: 'syntheticDeviceNode', type: 'uint256' },
  ],
} as const;

export type PrimaryType = keyof typeof registryTypes;

// Widened so that calls and types chosen by name at run time type-check.
const looseTypes: TypedData = registryTypes;
const registryAbi: Abi = dimoRegistryAbi;

export function domainFor(chainId: number, verifyingContract: Address) {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract } as const;
}

export interface ChainFixture {
  anvil: AnvilInstance;
  chainId: number;
  publicClient: PublicClient;
  testClient: TestClient;
  deployment: RegistryDeployment;
  seed: SeedResult;
  /** Anvil dev accounts: 0 deployer/admin, 1 relayer, 2 AutoPi's owner, 3–6 users. */
  accounts: {
    deployer: LocalAccount;
    relayer: LocalAccount;
    manufacturer: LocalAccount;
    alice: LocalAccount;
    bob: LocalAccount;
    carol: LocalAccount;
    stranger: LocalAccount;
  };
  wallet(account: Account): SignerClient;
  /** Signs registry typed data with any account (user, device key or synthetic wallet). */
  sign(account: LocalAccount, primaryType: PrimaryType, message: Record<string, unknown>): Promise<Hex>;
  /** Sends a registry call from `account`, waits, asserts success. */
  send(account: Account, functionName: string, args: readonly unknown[]): Promise<TransactionReceipt>;
  /** Simulates a registry call from `account` (reverts surface as errors). */
  simulate(account: Account, functionName: string, args: readonly unknown[]): Promise<unknown>;
  read(functionName: string, args?: readonly unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

/** `anvilArgs`: further anvil flags, e.g. `--prune-history` for a node that keeps no past state. */
export async function startChain(opts: { chainId?: number; anvilArgs?: string[] } = {}): Promise<ChainFixture> {
  const chainId = opts.chainId ?? 31337;
  const anvil = await startAnvil({ chainId, ...(opts.anvilArgs ? { extraArgs: opts.anvilArgs } : {}) });
  try {
    const chain = defineChain({
      id: chainId,
      name: 'anvil',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const transport = http(anvil.rpcUrl);
    // Short polling and no block-number cache: snapshots revert the chain under viem's feet.
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 }) as PublicClient;
    const testClient = createTestClient({ chain, transport, mode: 'anvil' }) as TestClient;
    const dev = (i: number) => mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: i });
    const accounts = {
      deployer: dev(0),
      relayer: dev(1),
      manufacturer: dev(2),
      alice: dev(3),
      bob: dev(4),
      carol: dev(5),
      stranger: dev(6),
    };
    const wallet = (account: Account): SignerClient => createWalletClient({ account, chain, transport });

    const deployment = await deployRegistry({
      publicClient,
      walletClient: wallet(accounts.deployer),
      relayer: accounts.relayer.address,
      devRoles: true,
    });
    const seed = await seedRegistry({
      publicClient,
      walletClient: wallet(accounts.deployer),
      registry: deployment.registry,
      manufacturerOwner: accounts.manufacturer.address,
    });

    const registry = deployment.registry;
    const fixture: ChainFixture = {
      anvil,
      chainId,
      publicClient,
      testClient,
      deployment,
      seed,
      accounts,
      wallet,
      sign: (account, primaryType, message) =>
        account.signTypedData({ domain: domainFor(chainId, registry), types: looseTypes, primaryType, message }),
      async send(account, functionName, args) {
        const hash: Hash = await wallet(account).writeContract({
          address: registry,
          abi: registryAbi,
          functionName,
          args,
          account,
          chain,
        });
        const receipt = await publicClient.waitForTransactionReceipt({ hash });
        assert.equal(receipt.status, 'success', `${functionName} failed`);
        return receipt;
      },
      async simulate(account, functionName, args) {
        const { result } = await publicClient.simulateContract({
          address: registry,
          abi: registryAbi,
          functionName,
          args,
          account,
        });
        return result;
      },
      read: (functionName, args = []) =>
        publicClient.readContract({
          address: registry,
          abi: registryAbi,
          functionName,
          args,
        }),
      stop: () => anvil.stop(),
    };
    return fixture;
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

/** Every test of the calling suite starts from the chain as its `before` left it. */
export function revertChainAfterEachTest(fixture: () => ChainFixture): void {
  let snapshot: Hex;
  beforeEach(async () => {
    snapshot = await fixture().testClient.snapshot();
  });
  afterEach(async () => {
    await fixture().testClient.revert({ id: snapshot });
  });
}

/** Asserts the promise rejects with the contract's custom error `errorName` (and args, if given). */
export async function assertReverts(
  promise: Promise<unknown>,
  errorName: string,
  args?: readonly unknown[],
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BaseError, `expected a viem error, got ${String(err)}`);
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    assert.ok(reverted instanceof ContractFunctionRevertedError, `not a contract revert: ${err.shortMessage}`);
    assert.equal(reverted.data?.errorName, errorName, `reverted with ${reverted.data?.errorName ?? reverted.shortMessage}`);
    if (args) assert.deepEqual(reverted.data?.args, args);
    return true;
  });
}

/** Decoded registry events of one name from a receipt. */
export function eventsOf(receipt: TransactionReceipt, eventName: string): { address: Address; args: Record<string, unknown> }[] {
  return parseEventLogs({ abi: registryAbi, logs: receipt.logs, eventName }).map((log) => ({
    address: log.address,
    args: log.args as Record<string, unknown>,
  }));
}

/** Turns a 65-byte r‖s‖v signature with v 27/28 into the v 0/1 form some wallets produce. */
export function withLowV(signature: Hex): Hex {
  const v = parseInt(signature.slice(-2), 16);
  return `${signature.slice(0, -2)}${(v - 27).toString(16).padStart(2, '0')}` as Hex;
}

/**
 * A chain and a test database, started side by side. When one fails to start the other is
 * stopped before the error is rethrown: a failed `before` hook assigns nothing for `after` to
 * stop, and a leaked anvil would keep the test file alive until the test timeout.
 */
export async function startChainAndDatabase(opts: Parameters<typeof startChain>[0] = {}): Promise<[ChainFixture, TestDatabase]> {
  const [chain, database] = await Promise.allSettled([startChain(opts), createTestDatabase()]);
  if (chain.status === 'fulfilled' && database.status === 'fulfilled') return [chain.value, database.value];
  await Promise.allSettled([chain.status === 'fulfilled' && chain.value.stop(), database.status === 'fulfilled' && database.value.destroy()]);
  throw chain.status === 'rejected' ? chain.reason : (database as PromiseRejectedResult).reason;
}

/**
 * The indexer tests' chain: a Ford manufacturer minted and a ChainContext over it that counts a
 * block as final at once and polls every 50 ms.
 */
export async function startIndexedChain(): Promise<{ chain: ChainFixture; ctx: ChainContext; ford: bigint }> {
  const chain = await startChain();
  await chain.send(chain.accounts.relayer, 'mintManufacturer', [chain.accounts.deployer.address, 'Ford', []]);
  const ford = (await chain.read('getManufacturerIdByName', ['Ford'])) as bigint;
  const ctx = createChainContext({
    rpcUrl: chain.anvil.rpcUrl,
    chainId: chain.chainId,
    deployment: chain.deployment,
    relayerAccount: chain.accounts.relayer,
    confirmations: 0,
    pollingIntervalMs: 50,
  });
  return { chain, ctx, ford };
}
