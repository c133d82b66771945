import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { createRelayer } from '../../src/chain/relayer.ts';
import { enqueueTransaction } from '../../src/db/repositories/transaction-requests.ts';
import { metaTransactionRequests } from '../../src/db/schema.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startChain, type ChainFixture } from '../chain/helpers.ts';
import { enqueueMintManufacturer, relayerContext, tickUntilSettled } from '../chain/relayer-helpers.ts';

describe('GET /v1/transactions/{requestId}', () => {
  let t: TestApp;
  let c: ChainFixture;
  let alice: string;
  let bob: string;
  before(async () => {
    [t, c] = await Promise.all([createTestApp(), startChain()]);
    alice = await t.token('alice');
    bob = await t.token('bob');
  });
  after(async () => {
    await Promise.all([t?.close(), c?.stop()]);
  });

  const enqueue = (userId: string | null) =>
    enqueueTransaction(t.database.db, { kind: 'Claim', userId, to: c.deployment.registry, data: '0x', subject: { aftermarketTokenId: '1' } });
  const patch = (id: string, set: Partial<typeof metaTransactionRequests.$inferInsert>) =>
    t.database.db.update(metaTransactionRequests).set(set).where(eq(metaTransactionRequests.id, id));

  it('shows the caller their request, without a hash until it is broadcast', async () => {
    const row = await enqueue('alice');
    await patch(row.id, { hash: `0x${'ab'.repeat(32)}`, signedTx: '0x02', nonce: 4n });
    const r = await t.request('GET', `/v1/transactions/${row.id}`, { token: alice });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'requestId', 'status', 'updatedAt']);
    assert.equal(r.json.requestId, row.id);
    assert.equal(r.json.status, 'Unsubmitted');
    assert.equal(new Date(r.json.createdAt).getTime(), row.createdAt.getTime());
  });

  it('answers 404 to another user and for an unknown id, 400 for a malformed one, 401 without a token', async () => {
    const row = await enqueue('alice');
    assert.equal((await t.request('GET', `/v1/transactions/${row.id}`, { token: bob })).status, 404);
    const unknown = await t.request('GET', `/v1/transactions/${newKsuid()}`, { token: alice });
    assert.equal(unknown.status, 404);
    assert.equal((await t.request('GET', '/v1/transactions/not-a-ksuid', { token: alice })).status, 400);
    assert.equal((await t.request('GET', `/v1/transactions/${row.id}`)).status, 401);
    const system = await enqueue(null);
    assert.equal((await t.request('GET', `/v1/transactions/${system.id}`, { token: alice })).status, 404);
  });

  it('gives a failure reason, and the hash only of a failed transaction that was mined', async () => {
    const simulated = await enqueue('alice');
    await patch(simulated.id, { status: 'Failed', failureReason: 'Aftermarket device 7 already claimed.' });
    const a = await t.request('GET', `/v1/transactions/${simulated.id}`, { token: alice });
    assert.equal(a.json.status, 'Failed');
    assert.equal(a.json.failureReason, 'Aftermarket device 7 already claimed.');
    assert.equal(a.json.hash, undefined);
    const mined = await enqueue('alice');
    const hash = `0x${'cd'.repeat(32)}`;
    await patch(mined.id, { status: 'Failed', failureReason: 'Invalid owner signature.', hash, blockNumber: 9n });
    const b = await t.request('GET', `/v1/transactions/${mined.id}`, { token: alice });
    assert.equal(b.json.hash, hash);
    assert.equal(b.json.failureReason, 'Invalid owner signature.');
  });

  it('follows a relayed call to Confirmed with its transaction hash', async () => {
    const row = await enqueueMintManufacturer(t.database.db, c, `Transactions Route ${Date.now()}`, 'alice');
    const before = await t.request('GET', `/v1/transactions/${row.id}`, { token: alice });
    assert.equal(before.json.status, 'Unsubmitted');
    const [settled] = await tickUntilSettled(createRelayer({ database: t.database, chain: relayerContext(c) }), t.database.db, [row.id]);
    const r = await t.request('GET', `/v1/transactions/${row.id}`, { token: alice });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'Confirmed');
    assert.equal(r.json.hash, settled!.hash);
    assert.match(r.json.hash, /^0x[0-9a-f]{64}$/);
    assert.ok(new Date(r.json.updatedAt) >= new Date(r.json.createdAt));
  });
});
