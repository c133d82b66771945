// One attempt's safety rules at delivery time: the resolved address is checked and pinned (a
// host that resolves to a private address is refused even if it was public when subscribed),
// redirects are not followed, the answer is read to at most 64 KiB, and 10 s (here less) bound it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { createWebhookSender } from '../../src/webhooks/send.ts';
import { RefusedAddressError, resolveAllowed, type Resolver } from '../../src/webhooks/url-policy.ts';

const PRODUCTION = { allowHttp: true, allowPrivateNetworks: false };
const LOCAL = { allowHttp: true, allowPrivateNetworks: true };
const fixed = (map: Record<string, string[]>): Resolver => async (host) => (map[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('sending one webhook attempt', () => {
  let rx: WebhookReceiver;
  before(async () => {
    rx = await startWebhookReceiver((req) => (req.path === '/redirect' ? 302 : 204));
  });
  after(() => rx.close());
  const port = () => new URL(rx.url).port;

  it('connects to the address the resolver checked (pinned), not to a second DNS answer', async () => {
    const sender = createWebhookSender({ policy: LOCAL, resolve: fixed({ 'receiver.test': ['127.0.0.1'] }) });
    const r = await sender.send(`http://receiver.test:${port()}/pinned`, { 'webhook-id': 'msg_1' }, '{}');
    sender.close();
    assert.deepEqual(r, { ok: true, statusCode: 204, error: null });
    assert.equal(rx.received.at(-1)?.path, '/pinned');
  });

  it('refuses, in production, a host that now resolves to a loopback, private or metadata address (DNS rebinding)', async () => {
    for (const address of ['127.0.0.1', '10.1.1.1', '169.254.169.254', '::1', 'fd00:ec2::254']) {
      const sender = createWebhookSender({ policy: PRODUCTION, resolve: fixed({ 'rebind.test': ['93.184.216.34', address] }) });
      const before = rx.received.length;
      const r = await sender.send(`http://rebind.test:${port()}/x`, {}, '{}');
      sender.close();
      assert.equal(r.ok, false);
      assert.equal(r.statusCode, null);
      assert.match(r.error!, /public addresses only/, address);
      assert.equal(rx.received.length, before, 'the request went out');
    }
  });

  it('refuses a literal private address in production without resolving anything', async () => {
    const sender = createWebhookSender({ policy: PRODUCTION, resolve: () => Promise.reject(new Error('resolver called')) });
    const r = await sender.send(`http://127.0.0.1:${port()}/x`, {}, '{}');
    sender.close();
    assert.match(r.error!, /loopback/);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const sender = createWebhookSender({ policy: LOCAL });
    const r = await sender.send(`${rx.url}/redirect`, {}, '{}');
    sender.close();
    assert.deepEqual(r, { ok: false, statusCode: 302, error: 'HTTP 302 (redirects are not followed)' });
  });

  it('stops reading an answer past 64 KiB, and gives up on a receiver that does not answer in time', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
        return;
      }
      // /slow: never answers
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const sender = createWebhookSender({ policy: LOCAL, timeoutMs: 500 });
    const big = await sender.send(`${base}/big`, {}, '{}');
    assert.equal(big.statusCode, 200);
    assert.equal(big.ok, true);
    const slow = await sender.send(`${base}/slow`, {}, '{}');
    assert.deepEqual([slow.ok, slow.statusCode], [false, null]);
    assert.match(slow.error!, /within 0.5 s/);
    sender.close();
    server.closeAllConnections();
    server.close();
  });

  it('checks every resolved address when a subscription is saved', async () => {
    await assert.rejects(resolveAllowed('mixed.test', PRODUCTION, fixed({ 'mixed.test': ['8.8.8.8', '192.168.1.1'] })), RefusedAddressError);
    await assert.rejects(resolveAllowed('none.test', PRODUCTION, fixed({})), RefusedAddressError);
    assert.equal((await resolveAllowed('ok.test', PRODUCTION, fixed({ 'ok.test': ['8.8.8.8', '2606:4700::1'] }))).length, 2);
    assert.equal((await resolveAllowed('lan.test', LOCAL, fixed({ 'lan.test': ['192.168.1.1'] }))).length, 1);
  });
});
