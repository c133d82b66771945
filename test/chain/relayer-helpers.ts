// Shared pieces of the relayer tests: a ChainContext over the test chain, outbox rows for real
// registry calls, and "tick until settled".
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { encodeFunctionData, type Hex, type LocalAccount } from 'viem';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { createChainContext, type ChainContext } from '../../src/chain/context.ts';
import { enqueueTransaction, type MetaTxRow } from '../../src/chain/outbox.ts';
import type { Relayer } from '../../src/chain/relayer.ts';
import type { Db } from '../../src/db/engine.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import type { ChainFixture } from './helpers.ts';

export function relayerContext(c: ChainFixture, opts: { confirmations?: number; rpcUrl?: string } = {}): ChainContext {
  return createChainContext({
    rpcUrl: opts.rpcUrl ?? c.anvil.rpcUrl,
    chainId: c.chainId,
    deployment: c.deployment,
    relayerAccount: c.accounts.relayer,
    confirmations: opts.confirmations ?? 1,
    pollingIntervalMs: 50,
  });
}

/** `mintManufacturer(owner, name, [])`: the relayer holds MINT_MANUFACTURER_ROLE; a taken name reverts. */
export function mintManufacturerData(owner: Hex, name: string): Hex {
  return encodeFunctionData({ abi: dimoRegistryAbi, functionName: 'mintManufacturer', args: [owner, name, []] });
}

export async function enqueueMintManufacturer(db: Db, c: ChainFixture, name: string, userId = 'user-1'): Promise<MetaTxRow> {
  return enqueueTransaction(db, {
    kind: 'MintManufacturer',
    userId,
    to: c.deployment.registry,
    data: mintManufacturerData(c.accounts.deployer.address, name),
    subject: { name },
  });
}

export const VEHICLE_DD = 'ford_bronco_2021';
const ATTRS = [
  { attribute: 'Make', info: 'Ford' },
  { attribute: 'Model', info: 'Bronco' },
  { attribute: 'Year', info: '2021' },
] as const;

/** A relayed vehicle mint with the owner's real EIP-712 signature (not idempotent: a second send mints a second vehicle). */
export async function vehicleMintData(c: ChainFixture, owner: LocalAccount): Promise<Hex> {
  const manufacturerNode = c.seed.manufacturers.AutoPi ?? 1n;
  const signature = await c.sign(owner, 'MintVehicleWithDeviceDefinitionSign', {
    manufacturerNode,
    owner: owner.address,
    deviceDefinitionId: VEHICLE_DD,
    attributes: ATTRS.map((a) => a.attribute),
    infos: ATTRS.map((a) => a.info),
  });
  return encodeFunctionData({
    abi: dimoRegistryAbi,
    functionName: 'mintVehicleWithDeviceDefinitionSign',
    args: [manufacturerNode, owner.address, VEHICLE_DD, ATTRS, signature],
  });
}

export async function rowOf(db: Db, id: string): Promise<MetaTxRow> {
  const [row] = await db.select().from(metaTransactionRequests).where(eq(metaTransactionRequests.id, id));
  assert.ok(row, `no request ${id}`);
  return row;
}

/** Ticks until every request is Confirmed or Failed (or gives up after `maxTicks`). */
export async function tickUntilSettled(relayer: Pick<Relayer, 'tick'>, db: Db, ids: string[], maxTicks = 50): Promise<MetaTxRow[]> {
  for (let i = 0; i < maxTicks; i++) {
    await relayer.tick();
    const rows = await Promise.all(ids.map((id) => rowOf(db, id)));
    if (rows.every((r) => r.status === 'Confirmed' || r.status === 'Failed')) return rows;
  }
  const rows = await Promise.all(ids.map((id) => rowOf(db, id)));
  assert.fail(`not settled after ${maxTicks} ticks: ${rows.map((r) => `${r.id}=${r.status}`).join(', ')}`);
}
