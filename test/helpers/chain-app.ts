// The real app over HTTP on a real anvil with the registry, with the relayer and the indexer
// running in-process (the setup of test/e2e/mint.test.ts, shared), plus a client-style signer.
import type { Hex, LocalAccount } from 'viem';
import { createChainContext, type ChainContext } from '../../src/chain/context.ts';
import { createIndexer, type Indexer } from '../../src/chain/indexer.ts';
import { createRelayer, type Relayer } from '../../src/chain/relayer.ts';
import { createTestApp, type TestApp, type TestAppOptions } from './app.ts';
import { startChain, type ChainFixture } from '../chain/helpers.ts';

export type Payload = { types: Record<string, { name: string; type: string }[]>; primaryType: string; domain: Record<string, unknown>; message: Record<string, unknown> };

/** What a wallet does with an eth_signTypedData_v4 object (../shared/acceptance/client.mjs `signTyped`). */
export async function signTyped(account: LocalAccount, td: Payload, domainOverride: Record<string, unknown> = {}): Promise<Hex> {
  const types = { ...td.types };
  delete types.EIP712Domain;
  const conv = (type: string, v: unknown): unknown =>
    type.endsWith('[]') ? (v as unknown[]).map((x) => conv(type.slice(0, -2), x)) : /^u?int\d*$/.test(type) ? BigInt(v as string) : v;
  const message: Record<string, unknown> = {};
  for (const f of types[td.primaryType]!) message[f.name] = conv(f.type, td.message[f.name]);
  const domain: Record<string, unknown> = { ...td.domain, ...domainOverride };
  if (domain.chainId !== undefined) domain.chainId = Number(BigInt(domain.chainId as number));
  return account.signTypedData({ domain, types, primaryType: td.primaryType, message });
}

export { until } from './eventually.ts';

export interface ChainApp {
  c: ChainFixture;
  ctx: ChainContext;
  t: TestApp;
  relayer: Relayer;
  indexer: Indexer;
  close(): Promise<void>;
}

/** Starts everything; `close` stops the workers, the app, its database and anvil. */
export async function startChainApp(opts: Omit<TestAppOptions, 'deps'> & { deps?: TestAppOptions['deps'] } = {}): Promise<ChainApp> {
  const c = await startChain();
  let t: TestApp | undefined;
  try {
    const ctx = createChainContext({
      rpcUrl: c.anvil.rpcUrl,
      chainId: c.chainId,
      deployment: c.deployment,
      relayerAccount: c.accounts.relayer,
      adminAccount: c.accounts.deployer,
      confirmations: 0,
      pollingIntervalMs: 50,
    });
    t = await createTestApp({ ...opts, deps: { chain: ctx, ...opts.deps } });
    const relayer = createRelayer({ database: t.database, chain: ctx, pollIntervalMs: 50 });
    const indexer = createIndexer({ database: t.database, chain: ctx, pollIntervalMs: 50, publicBaseUrl: t.config.publicBaseUrl });
    relayer.start();
    indexer.start();
    const app = t;
    return {
      c,
      ctx,
      t: app,
      relayer,
      indexer,
      async close() {
        await relayer.stop();
        await indexer.stop();
        await app.close();
        await c.stop();
      },
    };
  } catch (err) {
    await t?.close();
    await c.stop();
    throw err;
  }
}
