// Opens the chain the config names — the embedded anvil or a configured RPC — as one
// ChainContext, and checks it before the service serves. Nothing above this module knows which
// kind it got.
import { privateKeyToAccount } from 'viem/accounts';
import type { Config } from '../config.ts';
import type { Db } from '../db/engine.ts';
import { lockDataDir } from '../db/data-dir-lock.ts';
import { createChainContext, type ChainContext } from './context.ts';
import { assertChainMatchesDatabase, databaseHasIndexed, startEmbeddedChain, type EmbeddedChain } from './embedded.ts';
import { assertChainUsable, chainReadiness } from './startup-checks.ts';

export interface RunningChain {
  context: ChainContext;
  /** Present when the service spawned anvil. */
  embedded: EmbeddedChain | undefined;
  /** For /ready. */
  ready(): Promise<void>;
  /** Stops anvil (it dumps its state) when embedded; nothing to do for an RPC. */
  close(): Promise<void>;
}

interface Logger {
  info(obj: object, msg: string): void;
}

export async function openConfiguredChain(
  config: Pick<Config, 'chain' | 'dataDir'>,
  logger?: Logger,
  opts: { redoUnfinishedDeploy?: boolean } = {},
): Promise<RunningChain> {
  const c = config.chain;
  if (c.kind === 'embedded') {
    const embedded = await startEmbeddedChain({
      dataDir: config.dataDir,
      redoUnfinishedDeploy: opts.redoUnfinishedDeploy ?? false,
      chainId: c.chainId,
      confirmations: c.confirmations,
      blockTime: c.blockTime,
      stateInterval: c.stateInterval,
      logger,
    });
    return { context: embedded.context, embedded, ready: chainReadiness(embedded.context), close: () => embedded.stop() };
  }
  const context = createChainContext({
    rpcUrl: c.rpcUrl,
    chainId: c.chainId,
    deployment: c.deployment,
    relayerAccount: privateKeyToAccount(c.relayerPrivateKey),
    confirmations: c.confirmations,
  });
  return { context, embedded: undefined, ready: chainReadiness(context), close: async () => {} };
}

/**
 * Refuses a chain the service cannot work with: an embedded chain that lost its state while the
 * database remembers it, a wrong chain id, missing contracts, a relayer without roles or gas.
 */
export async function checkChainBeforeServing(chain: RunningChain, db: Db, config: Pick<Config, 'chain' | 'dataDir'>): Promise<void> {
  if (chain.embedded) await assertChainMatchesDatabase(chain.context, db, config.dataDir);
  const minBalanceWei = config.chain.kind === 'configured' ? config.chain.relayerMinBalanceWei : undefined;
  await assertChainUsable(chain.context, minBalanceWei === undefined ? {} : { minBalanceWei });
}

/**
 * openConfiguredChain + checkChainBeforeServing, closing what it opened if a check fails. The
 * embedded anvil keeps its state in DATA_DIR, so it needs the data-dir lock even when the
 * database is PostgreSQL (no PGlite lock taken): two anvils on one state file overwrite each other.
 */
export async function openCheckedChain(
  config: Pick<Config, 'chain' | 'dataDir'>,
  db: Db,
  opts: { dataDirLocked: boolean; logger?: Logger },
): Promise<RunningChain> {
  const ownLock = config.chain.kind === 'embedded' && !opts.dataDirLocked ? lockDataDir(config.dataDir) : null;
  let chain: RunningChain | undefined;
  try {
    const redoUnfinishedDeploy = config.chain.kind === 'embedded' && !(await databaseHasIndexed(db));
    chain = await openConfiguredChain(config, opts.logger, { redoUnfinishedDeploy });
    await checkChainBeforeServing(chain, db, config);
    const opened = chain;
    return { ...opened, close: async () => { await opened.close(); ownLock?.release(); } };
  } catch (e) {
    await chain?.close();
    ownLock?.release();
    throw e;
  }
}
