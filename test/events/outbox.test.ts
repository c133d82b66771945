// The outbox on a real database: events exist exactly when their transaction commits, keep token
// ids exact, are read back only by the users allowed to see them, and expire in batches.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { events, nftPrivileges } from '../../src/db/schema.ts';
import { emitEvent, emitEvents } from '../../src/events/outbox.ts';
import { eventsFor, latestSeq, seqOf } from '../../src/events/stream.ts';
import { pruneEventsOnce } from '../../src/events/retention.ts';
import { TEST_EVENT_TYPE } from '../../src/domain/events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const ALICE = { id: 'alice', address: '0x00000000000000000000000000000000000000A1' as const };
const BOB = { id: 'bob', address: '0x00000000000000000000000000000000000000B0' as const };
const CAROL = { id: 'carol', address: null };

describe('event outbox', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.destroy());

  it('writes nothing for a rolled-back transaction, and the event for a committed one', async () => {
    const start = await latestSeq(db.db);
    await assert.rejects(
      db.db.transaction(async (tx) => {
        await emitEvent(tx, { type: 'vehicle.registered', userId: 'alice', resource: 'v1', data: { userDeviceId: 'v1' } });
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    assert.equal(await latestSeq(db.db), start);
    const row = await db.db.transaction((tx) => emitEvent(tx, { type: 'vehicle.registered', userId: 'alice', resource: 'v1', data: { userDeviceId: 'v1' } }));
    assert.match(row.id, /^msg_[0-9A-Za-z]{27}$/);
    assert.equal(await seqOf(db.db, row.id), row.seq);
    assert.equal(await seqOf(db.db, 'msg_unknown'), null);
  });

  it('keeps every digit of a token id, and sends the webhook body {type, timestamp, data}', async () => {
    const big = 2n ** 200n + 1n;
    const from = await latestSeq(db.db);
    await emitEvent(db.db, { type: 'vehicle.minted', userId: 'alice', vehicleTokenId: 7n, resource: 'v2', data: { nft: { tokenId: big }, name: '"quoted"' } });
    const [e] = await eventsFor(db.db, ALICE, from, 10);
    assert.ok(e!.body.includes(`"tokenId": ${big}`), e!.body);
    const body = JSON.parse(e!.body);
    assert.deepEqual(Object.keys(body), ['type', 'timestamp', 'data']);
    assert.equal(body.type, 'vehicle.minted');
    assert.equal(body.data.name, '"quoted"');
  });

  it('shows a user their own events, their wallet’s, and a vehicle’s while they hold a privilege on it; nobody else’s', async () => {
    const from = await latestSeq(db.db);
    await emitEvents(db.db, [
      { type: 'error_codes.reported', userId: 'alice', vehicleTokenId: 42n, resource: 'v3', data: { n: 1 } },
      { type: 'aftermarket_device.claimed', userId: `address:${ALICE.address.toLowerCase()}`, resource: 'S1', data: { n: 2 } },
      { type: 'document.created', userId: 'dave', resource: 'd1', data: { n: 3 } },
    ]);
    const seen = async (user: { id: string; address: `0x${string}` | null }) => (await eventsFor(db.db, user, from, 10)).map((e) => JSON.parse(e.body).data.n);
    assert.deepEqual(await seen(ALICE), [1, 2]);
    assert.deepEqual(await seen(BOB), []);
    assert.deepEqual(await seen(CAROL), []);

    await db.db.insert(nftPrivileges).values({ tokenId: 42n, privilege: 1, userAddress: BOB.address.toLowerCase(), expiry: new Date(Date.now() + 86_400_000), updatedAt: new Date() });
    assert.deepEqual(await seen(BOB), [1]);
    await db.db.update(nftPrivileges).set({ expiry: new Date(Date.now() - 1000) });
    assert.deepEqual(await seen(BOB), [], 'an expired privilege shows nothing');
  });

  it("shows a share's grantee the share's events, the revocation too, though the grantee then holds nothing", async () => {
    const from = await latestSeq(db.db);
    await emitEvents(db.db, [
      { type: 'vehicle.share_revoked', userId: 'alice', vehicleTokenId: 43n, resource: 'v4', audienceAddress: BOB.address, data: { n: 4 } },
      { type: 'vehicle.minted', userId: 'alice', vehicleTokenId: 43n, resource: 'v4', data: { n: 5 } },
    ]);
    const seen = async (user: { id: string; address: `0x${string}` | null }) => (await eventsFor(db.db, user, from, 10)).map((e) => JSON.parse(e.body).data.n);
    assert.deepEqual(await seen(BOB), [4]);
    assert.deepEqual(await seen(ALICE), [4, 5]);
    assert.deepEqual(await seen(CAROL), []);
  });

  it('keeps a webhook test event off the stream: it is for one subscription alone', async () => {
    const from = await latestSeq(db.db);
    await db.db.insert(events).values({ id: 'msg_test_event', type: TEST_EVENT_TYPE, userId: 'alice', resource: 'sub-1', data: { subscriptionId: 'sub-1' } });
    await emitEvent(db.db, { type: 'vehicle.registered', userId: 'alice', resource: 'v5', data: { n: 6 } });
    assert.deepEqual((await eventsFor(db.db, ALICE, from, 10)).map((e) => e.type), ['vehicle.registered']);
  });

  it('prunes events older than the cut-off, a batch at a time', async () => {
    await db.db.update(events).set({ createdAt: new Date(Date.now() - 3 * 86_400_000) });
    await emitEvent(db.db, { type: 'vehicle.deleted', userId: 'alice', resource: 'v4', data: {} });
    const total = (await db.db.select().from(events)).length;
    const cutoff = new Date(Date.now() - 86_400_000);
    assert.equal(await pruneEventsOnce(db.db, { olderThan: cutoff, batchSize: 2 }), 2);
    let left = total - 2;
    while ((await pruneEventsOnce(db.db, { olderThan: cutoff, batchSize: 2 })) > 0) left = (await db.db.select().from(events)).length;
    assert.deepEqual((await db.db.select().from(events)).map((e) => e.type), ['vehicle.deleted']);
    assert.ok(left >= 1);
  });
});
