import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  ConnectorProtocolError,
  ConnectorRejectedError,
  ConnectorUnavailableError,
  createFirmwareConnector,
  DeviceUnknownToCloudError,
  FirmwareConnectorError,
  isTerminalStatus,
  MAX_CLOUD_RESPONSE_BYTES,
  mapCloudStatus,
  planFirmwareUpdate,
  UpdateUnknownToCloudError,
} from '../../src/firmware/connector.ts';
import type { FirmwareConnector } from '../../src/firmware/connector.ts';
import { startFakeCloud } from './fake-cloud.ts';
import type { FakeCloud, SeenRequest } from './fake-cloud.ts';

const SERIAL = 'e3b0c442-98fc-1c14-9afb-f4c8996fb924';

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
  return true;
}

/** Makes the fake answer `body` with `status` to requests matching `when`. */
function answerWith(cloud: FakeCloud, status: number, body: string, when: (r: SeenRequest) => boolean = () => true): void {
  cloud.intercept = (req, res) => (when(req) ? reply(res, status, body) : false);
}

const isStateRead = (r: SeenRequest) => r.method === 'GET' && !r.path.includes('/updates');
const isUpdateRequest = (r: SeenRequest) => r.method === 'POST';

describe('firmware connector against a manufacturer cloud', () => {
  let cloud: FakeCloud;
  let connector: FirmwareConnector;

  beforeEach(async () => {
    cloud = await startFakeCloud();
    cloud.devices.set(SERIAL, { currentVersion: '1.4.0', latestVersion: '1.5.2', lastSeenAt: '2024-05-01T10:20:30Z' });
    connector = createFirmwareConnector({ baseUrl: cloud.baseUrl, token: cloud.token, timeoutMs: 2_000, manufacturer: 'AutoPi' });
  });
  afterEach(() => cloud.close());

  it("reads a device's firmware state", async () => {
    const state = await connector.getState(SERIAL);
    assert.deepEqual(state, {
      currentVersion: '1.4.0',
      latestVersion: '1.5.2',
      lastSeenAt: new Date('2024-05-01T10:20:30Z'),
    });
    assert.equal(cloud.requests[0]?.path, `/devices/${SERIAL}/firmware`);
    assert.equal(cloud.requests[0]?.headers.authorization, `Bearer ${cloud.token}`);
  });

  it('accepts nulls for a device that never reported and has no release', async () => {
    cloud.devices.set('quiet', { currentVersion: null, latestVersion: null, lastSeenAt: null });
    assert.deepEqual(await connector.getState('quiet'), { currentVersion: null, latestVersion: null, lastSeenAt: null });
  });

  it('escapes the serial in the URL path', async () => {
    cloud.devices.set('a/b ?c', { currentVersion: '1', latestVersion: '1', lastSeenAt: null });
    assert.equal((await connector.getState('a/b ?c')).currentVersion, '1');
    assert.equal(cloud.requests[0]?.path, '/devices/a%2Fb%20%3Fc/firmware');
  });

  it('requests an update with the target version and gets back a pending update', async () => {
    const update = await connector.requestUpdate(SERIAL, '1.5.2');
    assert.deepEqual(update, { updateId: 'upd-1', status: 'pending', error: null });
    const sent = cloud.requests[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, `/devices/${SERIAL}/firmware/updates`);
    assert.deepEqual(JSON.parse(sent.body), { toVersion: '1.5.2' });
    assert.match(String(sent.headers['content-type']), /^application\/json/);
    assert.equal(sent.headers.authorization, `Bearer ${cloud.token}`);
  });

  it('sends the idempotency key so a retried request does not start a second update', async () => {
    const first = await connector.requestUpdate(SERIAL, '1.5.2', { idempotencyKey: 'task-42' });
    const again = await connector.requestUpdate(SERIAL, '1.5.2', { idempotencyKey: 'task-42' });
    assert.equal(cloud.requests[0]?.headers['idempotency-key'], 'task-42');
    assert.equal(again.updateId, first.updateId);
    assert.equal(cloud.updates.size, 1);
  });

  it('polls an update through to success, after which the device reports the new version', async () => {
    const { updateId } = await connector.requestUpdate(SERIAL, '1.5.2');
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const u = await connector.getUpdate(SERIAL, updateId);
      assert.equal(u.updateId, updateId);
      seen.push(mapCloudStatus(u.status));
    }
    assert.deepEqual(seen, ['InProgress', 'Succeeded', 'Succeeded']);
    assert.equal((await connector.getState(SERIAL)).currentVersion, '1.5.2');
  });

  it("polls an update through to failure, keeping the cloud's reason", async () => {
    cloud.progress = ['in_progress', 'failed'];
    cloud.failureText = 'checksum\u0000 mismatch\n\non device';
    const { updateId } = await connector.requestUpdate(SERIAL, '1.5.2');
    assert.equal((await connector.getUpdate(SERIAL, updateId)).status, 'in_progress');
    const done = await connector.getUpdate(SERIAL, updateId);
    assert.equal(mapCloudStatus(done.status), 'Failed');
    assert.equal(done.error, 'checksum mismatch on device');
    assert.equal((await connector.getState(SERIAL)).currentVersion, '1.4.0');
  });

  it('caps a long failure reason', async () => {
    cloud.progress = ['failed'];
    cloud.failureText = 'x'.repeat(5_000);
    const { updateId } = await connector.requestUpdate(SERIAL, '1.5.2');
    const done = await connector.getUpdate(SERIAL, updateId);
    assert.ok(done.error !== null && done.error.length <= 500);
  });

  it('works with a base URL that has a trailing slash', async () => {
    const c = createFirmwareConnector({ baseUrl: `${cloud.baseUrl}/`, token: cloud.token, timeoutMs: 2_000 });
    assert.equal((await c.getState(SERIAL)).latestVersion, '1.5.2');
  });

  it('reports an unknown device as DeviceUnknownToCloudError', async () => {
    await assert.rejects(connector.getState('nope'), (err: unknown) => {
      assert.ok(err instanceof DeviceUnknownToCloudError);
      assert.equal(err.serial, 'nope');
      assert.equal(err.statusCode, 424);
      assert.match(err.message, /AutoPi's device cloud does not know device nope/);
      return true;
    });
    await assert.rejects(connector.requestUpdate('nope', '1.5.2'), DeviceUnknownToCloudError);
  });

  it('reports an update the cloud has no record of as UpdateUnknownToCloudError', async () => {
    await assert.rejects(connector.getUpdate(SERIAL, 'upd-999'), (err: unknown) => {
      assert.ok(err instanceof UpdateUnknownToCloudError);
      assert.equal(err.updateId, 'upd-999');
      assert.equal(err.statusCode, 502);
      return true;
    });
  });

  it('reports a wrong token as a rejection that points at the configuration, without the token', async () => {
    const wrong = createFirmwareConnector({ baseUrl: cloud.baseUrl, token: 'wrong-token-9', timeoutMs: 2_000, manufacturer: 'AutoPi' });
    for (const call of [() => wrong.getState(SERIAL), () => wrong.requestUpdate(SERIAL, '1.5.2')]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof ConnectorRejectedError);
        assert.equal(err.reason, 'unauthorized');
        assert.equal(err.cloudStatus, 401);
        assert.equal(err.statusCode, 502);
        assert.match(err.message, /FIRMWARE_CONNECTORS/);
        assert.ok(!err.message.includes('wrong-token-9'));
        return true;
      });
    }
    assert.equal(cloud.updates.size, 0);
  });

  it('treats 403 like 401', async () => {
    answerWith(cloud, 403, '{"error":"forbidden"}');
    await assert.rejects(connector.getState(SERIAL), (err: unknown) => err instanceof ConnectorRejectedError && err.reason === 'unauthorized');
  });

  it('times out on a cloud that does not answer, as ConnectorUnavailableError (504)', async () => {
    cloud.intercept = () => true; // never answers
    const quick = createFirmwareConnector({ baseUrl: cloud.baseUrl, token: cloud.token, timeoutMs: 100, manufacturer: 'AutoPi' });
    for (const call of [() => quick.getState(SERIAL), () => quick.requestUpdate(SERIAL, '1.5.2'), () => quick.getUpdate(SERIAL, 'upd-1')]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof ConnectorUnavailableError);
        assert.equal(err.reason, 'timeout');
        assert.equal(err.statusCode, 504);
        assert.match(err.message, /did not answer within 100 ms/);
        return true;
      });
    }
  });

  it('times out on a cloud that sends headers and then stalls', async () => {
    cloud.intercept = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"currentVersion": "1.4.0", ');
      return true;
    };
    const quick = createFirmwareConnector({ baseUrl: cloud.baseUrl, token: cloud.token, timeoutMs: 100 });
    await assert.rejects(quick.getState(SERIAL), (err: unknown) => err instanceof ConnectorUnavailableError && err.reason === 'timeout');
  });

  it('times out even when the fetch implementation ignores the abort signal', async () => {
    const stuck = createFirmwareConnector({
      baseUrl: cloud.baseUrl,
      token: cloud.token,
      timeoutMs: 50,
      fetch: () => new Promise<Response>(() => undefined),
    });
    await assert.rejects(stuck.requestUpdate(SERIAL, '1.5.2'), (err: unknown) => err instanceof ConnectorUnavailableError && err.reason === 'timeout');
  });

  it('reports a 500 as ConnectorUnavailableError (502), even when its body looks like success', async () => {
    answerWith(cloud, 500, '{"updateId": "upd-1", "status": "succeeded"}');
    for (const call of [() => connector.getState(SERIAL), () => connector.requestUpdate(SERIAL, '1.5.2'), () => connector.getUpdate(SERIAL, 'upd-1')]) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof ConnectorUnavailableError);
        assert.equal(err.reason, 'server_error');
        assert.equal(err.statusCode, 502);
        return true;
      });
    }
  });

  it('reports 503 and 429 as busy (503), passing on Retry-After', async () => {
    cloud.intercept = (_req, res) => reply(res, 503, '{}', { 'retry-after': '30' });
    await assert.rejects(connector.getState(SERIAL), (err: unknown) => {
      assert.ok(err instanceof ConnectorUnavailableError);
      assert.equal(err.reason, 'busy');
      assert.equal(err.statusCode, 503);
      assert.equal(err.retryAfter, 30);
      return true;
    });
    answerWith(cloud, 429, '{}');
    await assert.rejects(connector.getState(SERIAL), (err: unknown) => err instanceof ConnectorUnavailableError && err.reason === 'busy' && err.retryAfter === null);
  });

  it('reports an unreachable cloud as ConnectorUnavailableError (502)', async () => {
    const gone = await startFakeCloud();
    const url = gone.baseUrl;
    await gone.close();
    const c = createFirmwareConnector({ baseUrl: url, token: 't', timeoutMs: 2_000 });
    await assert.rejects(c.getState(SERIAL), (err: unknown) => err instanceof ConnectorUnavailableError && err.reason === 'unreachable' && err.statusCode === 502);
  });

  it('does not follow a redirect, so the token stays with the configured cloud', async () => {
    const other = await startFakeCloud(cloud.token);
    try {
      other.devices.set(SERIAL, { currentVersion: '9', latestVersion: '9', lastSeenAt: null });
      cloud.intercept = (_req, res) => {
        res.writeHead(307, { location: `${other.baseUrl}/devices/${SERIAL}/firmware` });
        res.end();
        return true;
      };
      await assert.rejects(connector.getState(SERIAL), (err: unknown) => err instanceof ConnectorRejectedError && err.cloudStatus === 307);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.close();
    }
  });

  it('reports other unexpected statuses as a rejection', async () => {
    answerWith(cloud, 400, '{"error":"bad request"}');
    await assert.rejects(connector.requestUpdate(SERIAL, '1.5.2'), (err: unknown) => err instanceof ConnectorRejectedError && err.reason === 'unexpected_status' && err.cloudStatus === 400);
  });

  it('rejects malformed firmware states', async () => {
    const bodies = [
      'not json',
      '',
      'null',
      '[]',
      '{}',
      '{"currentVersion": "1.4.0", "latestVersion": "1.5.2"}',
      '{"currentVersion": 140, "latestVersion": "1.5.2", "lastSeenAt": null}',
      '{"currentVersion": "", "latestVersion": "1.5.2", "lastSeenAt": null}',
      '{"currentVersion": "1.4.0 <script>", "latestVersion": "1.5.2", "lastSeenAt": null}',
      '{"currentVersion": "1.4.0", "latestVersion": "1.5.2", "lastSeenAt": "yesterday"}',
      '{"currentVersion": "1.4.0", "latestVersion": "1.5.2", "lastSeenAt": "2024-13-45T99:99:99Z"}',
      '{"currentVersion": "1.4.0", "latestVersion": "1.5.2", "lastSeenAt": 1714558830}',
    ];
    for (const body of bodies) {
      answerWith(cloud, 200, body);
      await assert.rejects(connector.getState(SERIAL), ConnectorProtocolError, body);
    }
  });

  it('never takes a malformed update answer for success', async () => {
    const bodies = [
      'OK',
      '{"status": "succeeded"}',
      '{"updateId": "upd-1"}',
      '{"updateId": "upd-1", "status": "done"}',
      '{"updateId": "upd-1", "status": "SUCCEEDED"}',
      '{"updateId": "upd-1", "status": true}',
      '{"updateId": "", "status": "succeeded"}',
      '{"updateId": "../../admin", "status": "succeeded"}',
      '{"updateId": 1, "status": "succeeded"}',
      '{"updateId": "upd-1", "status": "failed", "error": {"code": 7}}',
    ];
    for (const body of bodies) {
      answerWith(cloud, 200, body);
      await assert.rejects(connector.requestUpdate(SERIAL, '1.5.2'), ConnectorProtocolError, `request: ${body}`);
      await assert.rejects(connector.getUpdate(SERIAL, 'upd-1'), ConnectorProtocolError, `poll: ${body}`);
    }
  });

  it('rejects a poll answer about a different update', async () => {
    answerWith(cloud, 200, '{"updateId": "upd-2", "status": "succeeded"}');
    await assert.rejects(connector.getUpdate(SERIAL, 'upd-1'), /asked about update upd-1, got upd-2/);
  });

  it('rejects an answer larger than the byte cap', async () => {
    const pad = 'x'.repeat(MAX_CLOUD_RESPONSE_BYTES);
    answerWith(cloud, 200, JSON.stringify({ currentVersion: '1.4.0', latestVersion: '1.5.2', lastSeenAt: null, pad }));
    await assert.rejects(connector.getState(SERIAL), (err: unknown) => err instanceof ConnectorProtocolError && /larger than/.test(err.message));
    cloud.intercept = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked, no length
      for (let i = 0; i < 5; i++) res.write(pad.slice(0, 16 * 1024));
      res.end();
      return true;
    };
    await assert.rejects(connector.getState(SERIAL), ConnectorProtocolError);
  });

  it('gives every error a status code and a code for the API to answer with', async () => {
    cloud.intercept = (req, res) =>
      isStateRead(req) ? reply(res, 500, '{}') : isUpdateRequest(req) ? reply(res, 404, '{}') : false;
    const errors = await Promise.allSettled([connector.getState(SERIAL), connector.requestUpdate(SERIAL, '1')]);
    for (const e of errors) {
      assert.equal(e.status, 'rejected');
      assert.ok(e.reason instanceof FirmwareConnectorError);
      assert.equal(typeof e.reason.statusCode, 'number');
      assert.match(e.reason.code, /^[A-Z_]+$/);
    }
  });
});

describe('firmware update states', () => {
  it('maps every cloud status to the API task status', () => {
    assert.equal(mapCloudStatus('pending'), 'Pending');
    assert.equal(mapCloudStatus('in_progress'), 'InProgress');
    assert.equal(mapCloudStatus('succeeded'), 'Succeeded');
    assert.equal(mapCloudStatus('failed'), 'Failed');
  });

  it('treats only Succeeded and Failed as final', () => {
    assert.deepEqual(
      (['Pending', 'InProgress', 'Succeeded', 'Failed'] as const).filter(isTerminalStatus),
      ['Succeeded', 'Failed'],
    );
  });

  it('plans nothing for a device already on the latest release', () => {
    assert.deepEqual(planFirmwareUpdate({ currentVersion: '1.5.2', latestVersion: '1.5.2', lastSeenAt: null }), {
      kind: 'current',
      version: '1.5.2',
    });
  });

  it('plans an update to the latest release otherwise, even from an unknown version', () => {
    assert.deepEqual(planFirmwareUpdate({ currentVersion: '1.4.0', latestVersion: '1.5.2', lastSeenAt: null }), {
      kind: 'update',
      fromVersion: '1.4.0',
      toVersion: '1.5.2',
    });
    assert.deepEqual(planFirmwareUpdate({ currentVersion: null, latestVersion: '1.5.2', lastSeenAt: null }), {
      kind: 'update',
      fromVersion: null,
      toVersion: '1.5.2',
    });
  });

  it('reports when the manufacturer offers no release at all', () => {
    assert.deepEqual(planFirmwareUpdate({ currentVersion: '1.4.0', latestVersion: null, lastSeenAt: null }), { kind: 'no-release' });
    assert.deepEqual(planFirmwareUpdate({ currentVersion: null, latestVersion: null, lastSeenAt: null }), { kind: 'no-release' });
  });
});
