// /v1/webhooks over HTTP with a delivery worker and a local receiver: subscribe, the secret shown
// only at creation and rotation, a test event verified with standardwebhooks, the deliveries log
// (paged) and redelivery with the same webhook-id, input checks, the per-user limit, and the
// production URL rules (https, public addresses only).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { until } from '../helpers/chain-app.ts';
import { createWebhookWorker, type WebhookWorker } from '../../src/webhooks/worker.ts';
import { createWebhookSender } from '../../src/webhooks/send.ts';
import { MAX_WEBHOOK_URL_LENGTH } from '../../src/webhooks/url-policy.ts';

describe('webhook subscriptions (embedded defaults: local receivers allowed)', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  let worker: WebhookWorker;
  let alice: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog, env: { WEBHOOK_MAX_PER_USER: '3' } });
    rx = await startWebhookReceiver();
    worker = createWebhookWorker({
      database: t.database,
      sender: createWebhookSender({ policy: t.config.webhooks }),
      retrySchedule: [100],
      disableAfterMs: 3 * 86_400_000,
      pollIntervalMs: 50,
    });
    worker.start();
    alice = await t.token('alice', '0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa');
  });
  after(async () => {
    await worker.stop();
    await rx.close();
    await t.close();
  });

  const create = (body: unknown, token = alice) => t.request('POST', '/v1/webhooks', { token, body });

  it('creates a subscription and shows its whsec_ secret only in that answer', async () => {
    const r = await create({ url: `${rx.url}/a`, events: ['*'], description: 'all of it' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'description', 'disabledReason', 'enabled', 'events', 'id', 'secret', 'updatedAt', 'url']);
    assert.match(r.json.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    assert.deepEqual([r.json.events, r.json.description, r.json.enabled, r.json.disabledReason], [['*'], 'all of it', true, null]);
    const one = await t.request('GET', `/v1/webhooks/${r.json.id}`, { token: alice });
    assert.equal(one.status, 200);
    assert.equal(one.json.secret, undefined);
    assert.equal(one.json.url, `${rx.url}/a`);
    const list = await t.request('GET', '/v1/webhooks', { token: alice });
    assert.ok(list.json.webhooks.some((w: any) => w.id === r.json.id && w.secret === undefined));
    await t.request('DELETE', `/v1/webhooks/${r.json.id}`, { token: alice });
  });

  it('changes url, events and description with PATCH, and rotates the secret, the replaced one still signing for a day', async () => {
    const { json: w } = await create({ url: `${rx.url}/b`, events: ['vehicle.registered'] });
    const p = await t.request('PATCH', `/v1/webhooks/${w.id}`, { token: alice, body: { events: ['error_codes.reported', 'error_codes.reported', 'vehicle.minted'], description: 'x' } });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual([p.json.events, p.json.description, p.json.url], [['error_codes.reported', 'vehicle.minted'], 'x', `${rx.url}/b`]);
    const rot = await t.request('POST', `/v1/webhooks/${w.id}/rotate-secret`, { token: alice });
    assert.equal(rot.status, 200);
    assert.match(rot.json.secret, /^whsec_/);
    assert.notEqual(rot.json.secret, w.secret);
    // For a day the replaced secret still verifies, so the receiver can switch without a gap.
    await t.request('POST', `/v1/webhooks/${w.id}/test`, { token: alice });
    const signed = await until('the test event after rotating', async () => rx.received.find((r) => r.path === '/b'));
    for (const secret of [rot.json.secret, w.secret]) new Webhook(secret).verify(signed.body, signed.headers as Record<string, string>);
    const off = await t.request('PATCH', `/v1/webhooks/${w.id}`, { token: alice, body: { enabled: false } });
    assert.deepEqual([off.json.enabled, typeof off.json.disabledReason], [false, 'string']);
    const on = await t.request('PATCH', `/v1/webhooks/${w.id}`, { token: alice, body: { enabled: true } });
    assert.deepEqual([on.json.enabled, on.json.disabledReason], [true, null]);
    assert.equal((await t.request('DELETE', `/v1/webhooks/${w.id}`, { token: alice })).status, 204);
    assertError(await t.request('GET', `/v1/webhooks/${w.id}`, { token: alice }), 404, { error: 'NOT_FOUND' });
  });

  it('sends a signed test event, lists it in the deliveries log, and redelivers it with the same webhook-id', async () => {
    const { json: w } = await create({ url: `${rx.url}/test`, events: ['vehicle.registered'] });
    const sent = await t.request('POST', `/v1/webhooks/${w.id}/test`, { token: alice });
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.json.type, 'webhook.test');
    const got = await until('the test event', async () => rx.received.find((r) => r.path === '/test'));
    const body = new Webhook(w.secret).verify(got.body, got.headers as Record<string, string>) as any;
    assert.equal(body.type, 'webhook.test');
    assert.equal(body.data.subscriptionId, w.id);
    assert.equal(got.headers['webhook-id'], sent.json.eventId);
    const d = await until('delivered', async () => {
      const r = await t.request('GET', `/v1/webhooks/${w.id}/deliveries`, { token: alice });
      return r.json.deliveries[0]?.status === 'delivered' && r.json.deliveries[0];
    });
    assert.deepEqual([d.eventId, d.attempts, d.lastStatusCode], [sent.json.eventId, 1, 204]);
    const again = await t.request('POST', `/v1/webhooks/${w.id}/deliveries/${d.id}/redeliver`, { token: alice });
    assert.equal(again.status, 202, again.text);
    await until('the redelivery', async () => rx.received.filter((r) => r.path === '/test').length === 2);
    assert.deepEqual(new Set(rx.received.filter((r) => r.path === '/test').map((r) => r.headers['webhook-id'])), new Set([sent.json.eventId]));
    assertError(await t.request('POST', `/v1/webhooks/${w.id}/deliveries/${'0'.repeat(32)}/redeliver`, { token: alice }), 404);
    await t.request('DELETE', `/v1/webhooks/${w.id}`, { token: alice });
  });

  it('pages the deliveries log newest first with x-next-cursor and a Link', async () => {
    const { json: w } = await create({ url: `${rx.url}/page`, events: ['*'] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await t.request('POST', `/v1/webhooks/${w.id}/test`, { token: alice })).json.eventId);
    const seen: string[] = [];
    let path = `/v1/webhooks/${w.id}/deliveries?limit=2`;
    for (;;) {
      const r = await t.request('GET', path, { token: alice });
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json.deliveries.map((d: any) => d.eventId));
      const next = r.headers.get('x-next-cursor');
      if (!next) break;
      assert.equal(r.headers.get('link'), `</v1/webhooks/${w.id}/deliveries?limit=2&cursor=${next}>; rel="next"`);
      path = `/v1/webhooks/${w.id}/deliveries?limit=2&cursor=${next}`;
    }
    assert.deepEqual(seen, ids.reverse());
    await t.request('DELETE', `/v1/webhooks/${w.id}`, { token: alice });
  });

  it('refuses unknown event types, "*" mixed with types, and malformed URLs (400)', async () => {
    const bad: [unknown, RegExp][] = [
      [{ url: rx.url, events: ['vehicle.exploded'] }, /unknown event type "vehicle.exploded"/],
      [{ url: rx.url, events: ['*', 'vehicle.minted'] }, /"\*" stands alone/],
      [{ url: rx.url, events: [] }, /events/],
      [{ url: 'not a url', events: ['*'] }, /url/],
      [{ url: 'ftp://example.com/x', events: ['*'] }, /https/],
      [{ url: `https://example.com/${'x'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, events: ['*'] }, /url/],
      [{ url: 'https://user:pw@example.com/', events: ['*'] }, /credentials/],
    ];
    for (const [body, message] of bad) assertError(await create(body), 400, { message });
  });

  it('refuses a subscription past WEBHOOK_MAX_PER_USER (409)', async () => {
    const bob = await t.token('bob');
    for (let i = 0; i < 3; i++) assert.equal((await create({ url: `${rx.url}/bob${i}`, events: ['*'] }, bob)).status, 201);
    assertError(await create({ url: `${rx.url}/bob4`, events: ['*'] }, bob), 409, { message: /WEBHOOK_MAX_PER_USER/ });
  });
});

describe('webhook URLs in production mode: https on public addresses only', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog, env: { WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    token = await t.token('alice');
  });
  after(() => t.close());

  it('refuses http, loopback, private, link-local, CGNAT and metadata addresses', async () => {
    const refused: [string, RegExp][] = [
      ['http://8.8.8.8/hook', /https/],
      ['https://127.0.0.1/hook', /loopback/],
      ['https://[::1]/hook', /loopback/],
      ['https://localhost/hook', /loopback/],
      ['https://10.0.0.7/hook', /private/],
      ['https://[fd12::1]/hook', /private/],
      ['https://100.64.1.1/hook', /cgnat/],
      ['https://169.254.169.254/latest/meta-data', /metadata/],
      ['https://[fd00:ec2::254]/', /metadata/],
      ['https://[::ffff:192.168.1.1]/hook', /private/],
      ['https://0.0.0.0/hook', /unspecified/],
    ];
    for (const [url, message] of refused) assertError(await t.request('POST', '/v1/webhooks', { token, body: { url, events: ['*'] } }), 400, { message });
    const { json: w } = await t.request('POST', '/v1/webhooks', { token, body: { url: 'https://8.8.8.8/hook', events: ['*'] } });
    assert.ok(w.id);
    assertError(await t.request('PATCH', `/v1/webhooks/${w.id}`, { token, body: { url: 'https://192.168.0.1/' } }), 400, { message: /private/ });
  });
});
