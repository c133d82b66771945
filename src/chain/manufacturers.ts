// Car makes are manufacturer nodes on the registry: a vehicle mint names its make's node. The
// embedded chain mints a make the first time a vehicle of that make is minted (its admin account
// holds MINT_MANUFACTURER_ROLE); against a configured chain the makes are the registry operator's
// business, so a missing one is a typed error the route turns into a clear answer.
import { eq } from 'drizzle-orm';
import { BaseError, ContractFunctionRevertedError, parseEventLogs } from 'viem';
import { dimoRegistryAbi } from './abi/index.ts';
import type { ChainContext } from './context.ts';
import type { Db } from '../db/engine.ts';
import { manufacturers } from '../db/schema.ts';

/** The chain has no manufacturer node for this make and the service may not mint one. */
export class MakeNodeMissingError extends Error {
  constructor(readonly make: string) {
    super(`Make ${make} has no manufacturer node on chain; the registry operator must mint it first.`);
    this.name = 'MakeNodeMissingError';
  }
}

type Ctx = Pick<ChainContext, 'publicClient' | 'deployment' | 'admin' | 'confirmations'>;

async function nodeOnChain(ctx: Ctx, name: string): Promise<bigint> {
  return ctx.publicClient.readContract({
    address: ctx.deployment.registry,
    abi: dimoRegistryAbi,
    functionName: 'getManufacturerIdByName',
    args: [name],
  });
}

async function record(db: Db, tokenId: bigint, name: string, owner: string | null): Promise<void> {
  await db.insert(manufacturers).values({ tokenId, name, ownerAddress: owner?.toLowerCase() ?? null }).onConflictDoNothing();
}

function isNameTaken(e: unknown): boolean {
  if (!(e instanceof BaseError)) return false;
  const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
  return reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName === 'NameAlreadyRegistered';
}

/**
 * The manufacturer node of `makeName`: from the database, else from the chain (and recorded),
 * else — embedded mode only — minted by the admin account and awaited. Production: throws
 * MakeNodeMissingError. Not serialised: use createMakeNodes for concurrent callers.
 */
export async function ensureMakeNode(ctx: Ctx, db: Db, makeName: string, opts: { exclusive?: Exclusive } = {}): Promise<bigint> {
  const name = makeName.trim();
  if (!name) throw new Error('ensureMakeNode: empty make name');
  const [known] = await db.select({ tokenId: manufacturers.tokenId }).from(manufacturers).where(eq(manufacturers.name, name)).limit(1);
  if (known) return known.tokenId;

  const existing = await nodeOnChain(ctx, name);
  if (existing !== 0n) {
    await record(db, existing, name, null);
    return existing;
  }
  const admin = ctx.admin;
  if (!admin) throw new MakeNodeMissingError(name);

  const exclusive = opts.exclusive ?? ((fn) => fn());
  try {
    return await exclusive(() => mintMake(ctx, db, admin, name));
  } catch (e) {
    // Another process minted it between our read and our send: theirs is as good as ours.
    if (!isNameTaken(e)) throw e;
    const tokenId = await nodeOnChain(ctx, name);
    await record(db, tokenId, name, null);
    return tokenId;
  }
}

/** Runs `fn` alone: one account's sends must not interleave, or two of them pick the same nonce. */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

async function mintMake(ctx: Ctx, db: Db, admin: NonNullable<Ctx['admin']>, name: string): Promise<bigint> {
  const owner = admin.account.address;
  // Simulating first turns a revert into a decoded error before anything is sent.
  const { request } = await ctx.publicClient.simulateContract({
    address: ctx.deployment.registry,
    abi: dimoRegistryAbi,
    functionName: 'mintManufacturer',
    args: [owner, name, []],
    account: admin.account,
  });
  const hash = await admin.writeContract(request);
  const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash, confirmations: Math.max(1, ctx.confirmations) });
  if (receipt.status !== 'success') throw new Error(`minting make ${name} reverted (tx ${hash})`);
  const [minted] = parseEventLogs({ abi: dimoRegistryAbi, logs: receipt.logs, eventName: 'ManufacturerNodeMinted' });
  const tokenId = minted?.args.tokenId ?? (await nodeOnChain(ctx, name));
  await record(db, tokenId, name, owner);
  return tokenId;
}

export interface MakeNodes {
  /** ensureMakeNode, with concurrent calls for one make sharing a single lookup/mint. */
  ensureMakeNode(makeName: string): Promise<bigint>;
}

export function createMakeNodes(ctx: Ctx, db: Db): MakeNodes {
  const inFlight = new Map<string, Promise<bigint>>();
  // Different makes may be first used at once; their mints share the admin account's nonces.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive: Exclusive = (fn) => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  return {
    ensureMakeNode(makeName) {
      const key = makeName.trim();
      let p = inFlight.get(key);
      if (!p) {
        p = ensureMakeNode(ctx, db, key, { exclusive }).finally(() => inFlight.delete(key));
        inFlight.set(key, p);
      }
      return p;
    },
  };
}
