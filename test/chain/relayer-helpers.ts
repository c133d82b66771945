// Shared pieces of the relayer tests: a ChainContext over the test chain, outbox rows for real
// registry calls, and "tick until settled".
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { encodeFunctionData, type Hex, type LocalAccount } from 'viem';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { createChainContext, type ChainContext } from '../../src/chain/context.ts';
import { enqueueTransaction, type MetaTxRow } from '../../src/db/repositories/transaction-requests.ts';
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

/** A JSON-RPC pass-through to anvil that can be switched to answer 503, like a load balancer with no healthy node. */
export async function startRpcProxy(target: string) {
  let down = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (down) {
        res.writeHead(503).end('no healthy upstream');
        return;
      }
      fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setDown(v: boolean) {
      down = v;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

