// The delivery worker over a real database and a local receiver: signed deliveries that verify
// with the standardwebhooks package, retries with the same webhook-id, order per resource, the
// 3-day disabling (on an injected clock), and two workers sharing one queue without duplicates.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { until } from '../helpers/chain-app.ts';
import { events, webhookDeliveries, webhookSubscriptions, nftPrivileges } from '../../src/db/schema.ts';
import { emitEvent, type NewEvent } from '../../src/events/outbox.ts';
import { newKsuid } from '../../src/domain/ids.ts';
import { newWebhookSecret } from '../../src/domain/webhook-signature.ts';
import { createWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from '../../src/webhooks/worker.ts';
import { createWebhookSender } from '../../src/webhooks/send.ts';
import { eq } from 'drizzle-orm';

const LOCAL = { allowHttp: true, allowPrivateNetworks: true };
const DAY = 86_400_000;

describe('the webhook delivery worker', () => {
  let db: TestDatabase;
  let rx: WebhookReceiver;
  const workers: WebhookWorker[] = [];

  before(async () => {
    db = await createTestDatabase();
    rx = await startWebhookReceiver();
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await rx.close();
    await db.destroy();
  });
  beforeEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await db.db.delete(webhookSubscriptions);
    rx.received.length = 0;
    rx.answer = () => 204;
  });

  async function subscribe(userId: string, o: { events?: string[]; path?: string; address?: string } = {}) {
    const [row] = await db.db
      .insert(webhookSubscriptions)
      .values({ id: newKsuid(), userId, userAddress: o.address ?? null, url: `${rx.url}${o.path ?? `/${userId}`}`, events: o.events ?? ['*'], secret: newWebhookSecret() })
      .returning();
    return row!;
  }
  const emit = (e: Partial<NewEvent> & { userId: string }) =>
    db.db.transaction((tx) => emitEvent(tx, { type: 'vehicle.registered', resource: newKsuid(), data: { userDeviceId: 'x' }, ...e }));
  function worker(o: Partial<WebhookWorkerOptions> = {}): WebhookWorker {
    const w = createWebhookWorker({ database: db, sender: createWebhookSender({ policy: LOCAL }), retrySchedule: [50, 50, 50], disableAfterMs: 3 * DAY, pollIntervalMs: 20, ...o });
    workers.push(w);
    return w;
  }
  const deliveriesOf = (subscriptionId: string) => db.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, subscriptionId));

  it('delivers each event signed per Standard Webhooks, with the event id as webhook-id and {type, timestamp, data} as body', async () => {
    const sub = await subscribe('alice');
    worker().start();
    const ev = await emit({ userId: 'alice', data: { userDeviceId: 'ud1', name: 'car' } });
    const got = await until('the delivery', async () => rx.received.find((r) => r.headers['webhook-id'] === ev.id));
    const payload = new Webhook(sub.secret).verify(got.body, got.headers as Record<string, string>) as any;
    const [stored] = await db.db.select({ createdAt: events.createdAt }).from(events).where(eq(events.id, ev.id));
    assert.deepEqual(payload, { type: 'vehicle.registered', timestamp: stored!.createdAt.toISOString(), data: { userDeviceId: 'ud1', name: 'car' } });
    assert.equal(got.headers['content-type'], 'application/json');
    const d = await until('delivered', async () => (await deliveriesOf(sub.id)).find((x) => x.status === 'delivered'));
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, 204);
  });

  it('signs with a rotated-out secret too while its overlap lasts, and with the current one alone after', async () => {
    const sub = await subscribe('alice');
    const old = newWebhookSecret();
    const setOverlap = (until: Date) => db.db.update(webhookSubscriptions).set({ previousSecret: old, previousSecretUntil: until }).where(eq(webhookSubscriptions.id, sub.id));
    worker().start();
    await setOverlap(new Date(Date.now() + DAY));
    const during = await emit({ userId: 'alice' });
    const a = await until('the delivery during the overlap', async () => rx.received.find((r) => r.headers['webhook-id'] === during.id));
    assert.equal(String(a.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [sub.secret, old]) new Webhook(secret).verify(a.body, a.headers as Record<string, string>);
    await setOverlap(new Date(Date.now() - 1000));
    const after = await emit({ userId: 'alice' });
    const b = await until('the delivery after the overlap', async () => rx.received.find((r) => r.headers['webhook-id'] === after.id));
    new Webhook(sub.secret).verify(b.body, b.headers as Record<string, string>);
    assert.throws(() => new Webhook(old).verify(b.body, b.headers as Record<string, string>));
  });

  it('retries a failed attempt with the same webhook-id until a 2xx, and records every attempt', async () => {
    const sub = await subscribe('alice');
    let n = 0;
    rx.answer = () => (++n <= 2 ? 500 : 200);
    worker().start();
    const ev = await emit({ userId: 'alice' });
    await until('the third attempt', async () => rx.received.length >= 3 && (await deliveriesOf(sub.id))[0]?.status === 'delivered');
    assert.deepEqual(rx.received.map((r) => [r.headers['webhook-id'], r.status]), [[ev.id, 500], [ev.id, 500], [ev.id, 200]]);
    for (const r of rx.received) new Webhook(sub.secret).verify(r.body, r.headers as Record<string, string>);
    const [d] = await deliveriesOf(sub.id);
    assert.equal(d!.attempts, 3);
  });

  it('gives up after the last retry and marks the delivery failed with the last answer', async () => {
    const sub = await subscribe('alice');
    rx.answer = () => 503;
    worker({ retrySchedule: [10] }).start();
    await emit({ userId: 'alice' });
    const d = await until('failed', async () => (await deliveriesOf(sub.id)).find((x) => x.status === 'failed'));
    assert.equal(d.attempts, 2);
    assert.equal(d.lastStatusCode, 503);
    assert.equal(d.lastError, 'HTTP 503');
  });

  it("sends a user's events only to that user's subscriptions, and only the types each asked for", async () => {
    const a = await subscribe('alice', { events: ['error_codes.reported'] });
    const b = await subscribe('bob');
    worker().start();
    await emit({ userId: 'alice', type: 'vehicle.registered' });
    const ec = await emit({ userId: 'alice', type: 'error_codes.reported' });
    const bobs = await emit({ userId: 'bob' });
    await until('both', async () => rx.received.length >= 2);
    assert.deepEqual((await deliveriesOf(a.id)).map((d) => d.eventSeq), [ec.seq]);
    assert.deepEqual((await deliveriesOf(b.id)).map((d) => d.eventSeq), [bobs.seq]);
  });

  it('sends events about a vehicle to users holding a current privilege on it, not to expired holders', async () => {
    const holder = '0x' + '1'.repeat(40);
    const expired = '0x' + '2'.repeat(40);
    const h = await subscribe('holder', { address: holder });
    const x = await subscribe('expired', { address: expired });
    await db.db.insert(nftPrivileges).values([
      { tokenId: 77n, privilege: 1, userAddress: holder, expiry: new Date(Date.now() + DAY) },
      { tokenId: 77n, privilege: 1, userAddress: expired, expiry: new Date(Date.now() - 1000) },
    ]);
    const ev = await emit({ userId: 'owner', vehicleTokenId: 77n, type: 'vehicle.minted' });
    await emit({ userId: 'owner', vehicleTokenId: 78n, type: 'vehicle.minted' });
    assert.deepEqual((await deliveriesOf(h.id)).map((d) => d.eventSeq), [ev.seq]);
    assert.deepEqual(await deliveriesOf(x.id), []);
  });

  it("sends a share's revocation to its grantee, who then holds nothing on the vehicle", async () => {
    const grantee = '0x' + '3'.repeat(40);
    const g = await subscribe('grantee', { address: grantee });
    await db.db.insert(nftPrivileges).values({ tokenId: 79n, privilege: 1, userAddress: grantee, expiry: new Date(Date.now() - 1000) });
    const ev = await emit({ userId: 'owner', vehicleTokenId: 79n, type: 'vehicle.share_revoked', audienceAddress: '0x' + '3'.repeat(40) });
    await emit({ userId: 'owner', vehicleTokenId: 79n, type: 'vehicle.minted' });
    assert.deepEqual((await deliveriesOf(g.id)).map((d) => d.eventSeq), [ev.seq]);
  });

  it('creates no delivery for a rolled-back event, nor for a disabled subscription', async () => {
    const sub = await subscribe('alice');
    await assert.rejects(
      db.db.transaction(async (tx) => {
        await emitEvent(tx, { type: 'vehicle.registered', userId: 'alice', resource: 'r', data: {} });
        throw new Error('roll back');
      }),
    );
    await db.db.update(webhookSubscriptions).set({ disabledAt: new Date() }).where(eq(webhookSubscriptions.id, sub.id));
    await emit({ userId: 'alice' });
    assert.deepEqual(await deliveriesOf(sub.id), []);
  });

  it("keeps one resource's events in order: a later one waits while an earlier one is retried", async () => {
    await subscribe('alice');
    let failFirst = true;
    const firstId = { value: '' };
    rx.answer = ({ headers }) => (headers['webhook-id'] === firstId.value && failFirst ? ((failFirst = false), 500) : 204);
    const e1 = await emit({ userId: 'alice', resource: 'car-1', type: 'vehicle.registered' });
    firstId.value = e1.id;
    const e2 = await emit({ userId: 'alice', resource: 'car-1', type: 'vehicle.minted' });
    const other = await emit({ userId: 'alice', resource: 'car-2' });
    worker({ retrySchedule: [200] }).start();
    await until('all delivered', async () => rx.received.filter((r) => r.status < 300).length >= 3);
    const order = rx.received.map((r) => r.headers['webhook-id']);
    assert.deepEqual(order.filter((id) => id !== other.id), [e1.id, e1.id, e2.id]);
  });

  it('disables a subscription whose deliveries have failed for 3 days, says why, and stops sending to it', async () => {
    const sub = await subscribe('alice');
    rx.answer = () => 500;
    let now = Date.now() + 1000; // the database's clock made the deliveries due
    const w = worker({ now: () => new Date(now), retrySchedule: [DAY, DAY, DAY, DAY, DAY], random: () => 0.5 });
    await emit({ userId: 'alice' });
    for (let day = 0; day <= 3; day++) {
      assert.equal(await w.tick(), 1, `attempt on day ${day}`);
      now += DAY + 1000;
    }
    const [s] = await db.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, sub.id));
    assert.ok(s!.disabledAt, 'not disabled');
    assert.match(s!.disabledReason!, /failed without a success since .* \(last: HTTP 500\)/);
    const [d] = await deliveriesOf(sub.id);
    assert.equal(d!.status, 'failed');
    await emit({ userId: 'alice' });
    assert.equal(await w.tick(), 0);
    assert.equal(rx.received.length, 4);
  });

  it('a success clears the failing clock, so a later failure does not disable', async () => {
    const sub = await subscribe('alice');
    let now = Date.now() + 1000; // the database's clock made the deliveries due
    let fail = true;
    rx.answer = () => (fail ? 500 : 204);
    const w = worker({ now: () => new Date(now), retrySchedule: [DAY, DAY, DAY, DAY, DAY] });
    await emit({ userId: 'alice' });
    assert.equal(await w.tick(), 1);
    now += 2 * DAY;
    fail = false;
    assert.equal(await w.tick(), 1);
    fail = true;
    now += 2 * DAY;
    await emit({ userId: 'alice' });
    assert.equal(await w.tick(), 1);
    const [s] = await db.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, sub.id));
    assert.equal(s!.disabledAt, null);
  });

  it('a claim abandoned by a crashed worker is retried once its lease ends', async () => {
    const sub = await subscribe('alice');
    let now = Date.now() + 1000; // the database's clock made the deliveries due
    const w = worker({ now: () => new Date(now), leaseMs: 30_000 });
    const ev = await emit({ userId: 'alice' });
    // Claimed (as by a worker that then died) but never answered:
    const { claimDue } = await import('../../src/webhooks/delivery-store.ts');
    assert.equal((await claimDue(db.db, { now: new Date(now), leaseUntil: new Date(now + 30_000), limit: 10 })).length, 1);
    assert.equal(await w.tick(), 0, 'claimed twice within the lease');
    now += 31_000;
    assert.equal(await w.tick(), 1);
    assert.deepEqual(rx.received.map((r) => r.headers['webhook-id']), [ev.id]);
    assert.equal((await deliveriesOf(sub.id))[0]!.status, 'delivered');
  });

  it('two workers on one database deliver every event exactly once (FOR UPDATE SKIP LOCKED)', async () => {
    const sub = await subscribe('alice');
    const seen = new Map<string, number>();
    rx.answer = ({ headers }) => {
      const id = String(headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      return 204;
    };
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push((await emit({ userId: 'alice', resource: `r${i % 40}` })).id);
    // Generous time-outs: a timed-out attempt is retried (at least once), which is not what this checks.
    const patient = { batchSize: 7, leaseMs: 120_000, sender: createWebhookSender({ policy: LOCAL, timeoutMs: 60_000 }) };
    worker(patient).start();
    worker(patient).start();
    await until('all delivered', async () => seen.size === ids.length, 120_000);
    await new Promise((r) => setTimeout(r, 300));
    const retried = (await deliveriesOf(sub.id)).filter((d) => d.attempts !== 1);
    assert.deepEqual(retried.map((d) => d.lastError), [], 'attempts failed');
    assert.deepEqual([...seen.values()].filter((n) => n !== 1), [], 'an event was delivered more than once');
    assert.equal(rx.received.length, ids.length);
  });
});
