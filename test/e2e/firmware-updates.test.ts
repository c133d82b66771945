// Firmware updates over HTTP against a local fake manufacturer cloud (test/firmware/fake-cloud.ts):
// 501 without a connector, 200 when already current, 202 and polling to a truthful end, cloud
// failures mapped to 424/502/503/504 without leaving a task behind, failed polls changing nothing.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eq } from 'drizzle-orm';
import { getAddress } from 'viem';
import { aftermarketDevices, firmwareUpdateTasks } from '../../src/db/schema.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { startFakeCloud, type FakeCloud } from '../firmware/fake-cloud.ts';

const ALICE = '0x90f79bf6eb2c4f870365e785982e1f101e93b906';
const BOB = '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65';

describe('firmware updates by serial', () => {
  let cloud: FakeCloud;
  let t: TestApp;
  let alice: string;
  let bob: string;
  let token = 1000n;

  before(async () => {
    cloud = await startFakeCloud();
    // Generous: the timeout cases wait it out; a tight one would also time out healthy answers on a busy machine.
    t = await createTestApp({
      env: { FIRMWARE_CONNECTORS: JSON.stringify({ autopi: { baseUrl: cloud.baseUrl, token: cloud.token, timeoutMs: 2000 } }) },
    });
    alice = await t.token('alice', getAddress(ALICE));
    bob = await t.token('bob', getAddress(BOB));
  });
  after(async () => {
    await t?.close();
    await cloud?.close();
  });
  beforeEach(() => {
    cloud.intercept = null;
    cloud.progress = ['in_progress', 'succeeded'];
  });

  async function device(serial: string, opts: { owner?: string | null; manufacturer?: string; current?: string | null; latest?: string | null } = {}) {
    token += 1n;
    await t.database.db.insert(aftermarketDevices).values({
      tokenId: token,
      serial,
      address: `0x${token.toString(16).padStart(40, 'b')}`,
      manufacturerTokenId: 1n,
      manufacturerName: opts.manufacturer ?? 'AutoPi',
      ownerAddress: opts.owner === undefined ? ALICE : opts.owner,
    });
    cloud.devices.set(serial, { currentVersion: opts.current === undefined ? '1.4.0' : opts.current, latestVersion: opts.latest === undefined ? '1.5.2' : opts.latest, lastSeenAt: '2024-05-01T10:20:30Z' });
    return token;
  }
  const update = (serial: string, tok: string, body?: unknown) => t.request('POST', `/v1/aftermarket/device/by-serial/${serial}/update`, { token: tok, body });
  const task = (serial: string, id: string, tok: string) => t.request('GET', `/v1/aftermarket/device/by-serial/${serial}/update/${id}`, { token: tok });
  const tasksOf = (tokenId: bigint) => t.database.db.select().from(firmwareUpdateTasks).where(eq(firmwareUpdateTasks.aftermarketTokenId, tokenId));

  it('requests an update (202 Pending), then polls the cloud to InProgress and Succeeded; the device shows the new version', async () => {
    await device('fw-1');
    const r = await update('fw-1', alice);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, 'Pending');
    assert.equal(r.json.fromVersion, '1.4.0');
    assert.equal(r.json.toVersion, '1.5.2');
    assert.match(r.json.taskId, /^[0-9A-Za-z]{27}$/);
    const post = cloud.requests.find((q) => q.method === 'POST');
    assert.equal(post?.headers['idempotency-key'], r.json.taskId, 'the task id makes the cloud call idempotent');

    const during = await t.request('GET', '/v1/aftermarket/device/by-serial/fw-1', { token: alice });
    assert.deepEqual(
      { isUpdated: during.json.isUpdated, shouldUpdate: during.json.shouldUpdate, releaseVersion: during.json.releaseVersion },
      { isUpdated: false, shouldUpdate: false, releaseVersion: '1.4.0' },
      "the original's top-level fields: behind, but an update is under way",
    );

    const again = await update('fw-1', alice);
    assert.equal(again.status, 202);
    assert.equal(again.json.taskId, r.json.taskId, 'one update at a time: the open task is the answer');

    const done = await task('fw-1', r.json.taskId, alice);
    assert.equal(done.status, 200, done.text);
    assert.equal(done.json.status, 'Succeeded', 'the second poll reached the end of the fake progress');
    const info = await t.request('GET', '/v1/aftermarket/device/by-serial/fw-1', { token: alice });
    assert.equal(info.json.firmware.releaseVersion, '1.5.2');
    assert.equal(info.json.firmware.lastSeenAt, '2024-05-01T10:20:30.000Z');
    assert.equal(info.json.firmware.update.taskId, r.json.taskId);
    assert.equal(info.json.firmware.update.status, 'Succeeded');
    assert.deepEqual([info.json.isUpdated, info.json.shouldUpdate, info.json.releaseVersion], [true, false, '1.5.2']);
    const polls = cloud.requests.length;
    assert.equal((await task('fw-1', r.json.taskId, alice)).json.status, 'Succeeded');
    assert.equal(cloud.requests.length, polls, 'a finished task is not polled again');
  });

  it('answers 200 Succeeded without asking for an update when the device is already current', async () => {
    await device('fw-current', { current: '1.5.2', latest: '1.5.2' });
    const r = await update('fw-current', alice, {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'Succeeded');
    assert.equal(r.json.fromVersion, '1.5.2');
    assert.equal(r.json.toVersion, '1.5.2');
    assert.equal(cloud.requests.filter((q) => q.method === 'POST' && q.path.startsWith('/devices/fw-current')).length, 0);
    assert.equal((await task('fw-current', r.json.taskId, alice)).json.status, 'Succeeded');
  });

  it('reports a failed update as Failed with the cloud’s reason', async () => {
    await device('fw-fail');
    cloud.progress = ['failed'];
    const r = await update('fw-fail', alice);
    assert.equal(r.status, 202);
    const done = await task('fw-fail', r.json.taskId, alice);
    assert.equal(done.json.status, 'Failed');
    assert.equal(done.json.failureReason, 'device rejected the image');
    const info = await t.request('GET', '/v1/aftermarket/device/by-serial/fw-fail', { token: alice });
    assert.deepEqual([info.json.isUpdated, info.json.shouldUpdate, info.json.releaseVersion], [false, true, '1.4.0'], 'still behind, nothing under way: should update');
  });

  it('leaves a task as it was when a poll fails (500, timeout), and reports the real end afterwards', async () => {
    await device('fw-poll');
    const r = await update('fw-poll', alice);
    cloud.intercept = (req, res) => {
      if (req.method !== 'GET' || !req.path.includes('/updates/')) return false;
      res.writeHead(500).end('{"updateId":"x","status":"succeeded"}');
      return true;
    };
    let g = await task('fw-poll', r.json.taskId, alice);
    assert.equal(g.status, 200);
    assert.equal(g.json.status, 'Pending', 'a 5xx is never read as a result');
    cloud.intercept = (req) => req.method === 'GET' && req.path.includes('/updates/'); // never answers
    g = await task('fw-poll', r.json.taskId, alice);
    assert.equal(g.json.status, 'Pending');
    cloud.intercept = null;
    g = await task('fw-poll', r.json.taskId, alice);
    assert.equal(g.json.status, 'InProgress');
  });

  it('maps cloud failures on request to 424/502/503/504 and stores no task', async () => {
    const tokenId = await device('fw-errors');
    const cases: [string, (res: import('node:http').ServerResponse) => void, number, RegExp][] = [
      ['timeout', () => undefined, 504, /did not answer within 2000 ms/],
      ['busy', (res) => res.writeHead(503, { 'retry-after': '7' }).end(), 503, /temporarily unavailable/],
      ['server error', (res) => res.writeHead(500).end(), 502, /failed \(HTTP 500\)/],
      ['bad token', (res) => res.writeHead(401).end(), 502, /refused our credentials/],
      ['garbage', (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"updateId":'), 502, /not JSON/],
    ];
    for (const [what, answer, status, message] of cases) {
      for (const step of ['GET', 'POST']) {
        cloud.intercept = (req, res) => {
          if (req.method !== step) return false;
          answer(res);
          return true;
        };
        const r = await update('fw-errors', alice);
        assert.equal(r.status, status, `${what} on ${step}: ${r.text}`);
        assert.match(r.json.message, message);
        if (what === 'busy') assert.equal(r.headers.get('retry-after'), '7');
        assert.equal(r.text.includes(cloud.token), false, 'the token never leaks');
      }
    }
    assert.deepEqual(await tasksOf(tokenId), [], 'no task claims an update is under way');

    cloud.intercept = null;
    await device('fw-unknown');
    cloud.devices.delete('fw-unknown');
    const r = await update('fw-unknown', alice);
    assert.equal(r.status, 424);
    assert.equal(r.json.error, 'FAILED_DEPENDENCY');
  });

  it('answers 501 for a manufacturer without a connector, 409 when no release is offered', async () => {
    await device('fw-macaron', { manufacturer: 'Macaron' });
    const r = await update('fw-macaron', alice);
    assert.equal(r.status, 501);
    assert.equal(r.json.message.startsWith('No firmware connector is configured for manufacturer Macaron'), true, r.json.message);
    await device('fw-norelease', { latest: null });
    const n = await update('fw-norelease', alice);
    assert.equal(n.status, 409);
    assert.match(n.json.message, /no firmware release/);
  });

  it('is for the owner only: others 404, an unclaimed device 409; tasks of other devices 404; bad ids 400', async () => {
    await device('fw-access');
    assert.equal((await update('fw-access', bob)).status, 404);
    assert.equal((await update('no-such-serial', alice)).status, 404);
    await device('fw-unclaimed', { owner: null });
    const u = await update('fw-unclaimed', bob);
    assert.equal(u.status, 409);
    assert.match(u.json.message, /not claimed/);

    const r = await update('fw-access', alice);
    assert.equal(r.status, 202);
    assert.equal((await task('fw-access', r.json.taskId, bob)).status, 404);
    assert.equal((await task('fw-1', r.json.taskId, alice)).status, 404, 'the task belongs to another device');
    assert.equal((await task('fw-access', '2ZZZZZZZZZZZZZZZZZZZZZZZZZZ', alice)).status, 404);
    assert.equal((await task('fw-access', 'not-a-task', alice)).status, 400);
    // An unknown field is ignored: the same request as without it, answered with the task under way.
    const again = await update('fw-access', alice, { toVersion: '9.9.9' });
    assert.equal(again.json.taskId, r.json.taskId, again.text);
    assert.equal((await t.request('POST', '/v1/aftermarket/device/by-serial/fw-access/update', {})).status, 401);
  });
});

describe('firmware updates without connectors', () => {
  it('answers 501 for every manufacturer', async () => {
    const t = await createTestApp();
    try {
      await t.database.db.insert(aftermarketDevices).values({ tokenId: 1n, serial: 'fw-none', address: `0x${'c'.repeat(40)}`, manufacturerName: 'AutoPi', ownerAddress: ALICE });
      const r = await t.request('POST', '/v1/aftermarket/device/by-serial/fw-none/update', { token: await t.token('alice', getAddress(ALICE)) });
      assert.equal(r.status, 501);
      assert.equal(r.json.error, 'NOT_IMPLEMENTED');
      assert.match(r.json.message, /No firmware connector is configured for manufacturer AutoPi/);
    } finally {
      await t.close();
    }
  });
});
