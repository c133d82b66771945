import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { startChainAndDatabase, type ChainFixture } from './helpers.ts';
import { createChainContext, type ChainContext } from '../../src/chain/context.ts';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { createMakeNodes, ensureMakeNode, MakeNodeMissingError } from '../../src/chain/manufacturers.ts';
import { manufacturers } from '../../src/db/schema.ts';
import type { TestDatabase } from '../helpers/db.ts';

let fx: ChainFixture;
let db: TestDatabase;
let embedded: ChainContext;
let production: ChainContext;

before(async () => {
  [fx, db] = await startChainAndDatabase();
  const base = { rpcUrl: fx.anvil.rpcUrl, chainId: fx.chainId, deployment: fx.deployment, relayerAccount: fx.accounts.relayer, confirmations: 1 };
  embedded = createChainContext({ ...base, adminAccount: fx.accounts.deployer });
  production = createChainContext(base);
});
after(async () => {
  await fx?.stop();
  await db?.destroy();
});

async function onChain(name: string): Promise<bigint> {
  return fx.publicClient.readContract({ address: fx.deployment.registry, abi: dimoRegistryAbi, functionName: 'getManufacturerIdByName', args: [name] });
}

async function mintEventsFor(name: string): Promise<number> {
  const events = await fx.publicClient.getContractEvents({ address: fx.deployment.registry, abi: dimoRegistryAbi, eventName: 'ManufacturerNodeMinted', fromBlock: 0n });
  return events.filter((e) => (e.args as { name?: string }).name === name).length;
}

async function rowFor(name: string) {
  const [row] = await db.db.select().from(manufacturers).where(eq(manufacturers.name, name));
  return row;
}

describe('ensureMakeNode', () => {
  it('returns a manufacturer that already exists on chain and records it', async () => {
    const id = await ensureMakeNode(production, db.db, 'AutoPi');
    assert.equal(id, fx.seed.manufacturers.AutoPi);
    assert.equal((await rowFor('AutoPi'))?.tokenId, id);
  });

  it('mints a new make through the admin account on the embedded chain, once', async () => {
    const id = await ensureMakeNode(embedded, db.db, 'Ford');
    assert.ok(id > 0n);
    assert.equal(await onChain('Ford'), id);
    const row = await rowFor('Ford');
    assert.equal(row?.tokenId, id);
    assert.equal(row?.ownerAddress, fx.accounts.deployer.address.toLowerCase());

    const head = await fx.publicClient.getBlockNumber();
    assert.equal(await ensureMakeNode(embedded, db.db, ' Ford '), id);
    assert.equal(await fx.publicClient.getBlockNumber(), head, 'a known make sends nothing');
    assert.equal(await mintEventsFor('Ford'), 1);
  });

  it('answers a make missing on a configured chain with a typed error naming it', async () => {
    await assert.rejects(ensureMakeNode(production, db.db, 'Lada'), (e: unknown) => {
      assert.ok(e instanceof MakeNodeMissingError);
      assert.equal(e.make, 'Lada');
      assert.equal(e.message, 'Make Lada has no manufacturer node on chain; the registry operator must mint it first.');
      return true;
    });
    assert.equal(await onChain('Lada'), 0n);
    assert.equal(await rowFor('Lada'), undefined);
  });

  it('finds a make minted on chain by someone else without minting again', async () => {
    await fx.send(fx.accounts.deployer, 'mintManufacturer', [fx.accounts.deployer.address, 'Kia', []]);
    const id = await ensureMakeNode(production, db.db, 'Kia');
    assert.equal(id, await onChain('Kia'));
    assert.equal(await mintEventsFor('Kia'), 1);
  });
});

describe('createMakeNodes', () => {
  it('mints each make once when many requests for it arrive together, and different makes side by side', async () => {
    const makes = createMakeNodes(embedded, db.db);
    const names = ['Toyota', 'Toyota', 'Honda', 'Toyota', 'Honda', 'Mazda'];
    const ids = await Promise.all(names.map((n) => makes.ensureMakeNode(n)));
    const byName = new Map<string, Set<bigint>>();
    names.forEach((n, i) => byName.set(n, (byName.get(n) ?? new Set()).add(ids[i]!)));
    for (const [name, set] of byName) {
      assert.equal(set.size, 1, `${name} got one id`);
      assert.equal([...set][0], await onChain(name));
      assert.equal(await mintEventsFor(name), 1, `${name} minted once`);
    }
    assert.equal(new Set(ids).size, 3);
  });
});
