// `devices-api serve` as a person runs it: the banner, the data-dir lock against a second server,
// graceful shutdown on SIGTERM (in-flight requests finish, the lock goes), and a restart that
// finds the data again.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { killAllClis, runCli, spawnCli, startServe, tempDir, type CliProcess } from '../helpers/cli.ts';
import { LOCK_FILE } from '../../src/db/data-dir-lock.ts';

const ADDRESS = '0x1111111111111111111111111111111111111111';

interface Reply {
  status: number;
  body: string;
}

function get(url: string, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * A POST whose body is sent in two parts: the headers and a first part now, the rest on `finish()`.
 * Until then the request is in flight on the server.
 */
function slowPost(url: string, token: string, payload: unknown) {
  const body = JSON.stringify(payload);
  let finish!: () => void;
  const response = new Promise<Reply>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => (res.complete ? resolve({ status: res.statusCode!, body: text }) : reject(new Error('response truncated'))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(body.slice(0, 5));
    finish = () => req.end(body.slice(5));
  });
  return { response, finish: () => finish() };
}

async function exitWithin(p: CliProcess, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after SIGTERM\n${p.stderr().slice(-2000)}`)), ms);
  });
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('devices-api serve', () => {
  const dataDir = tempDir('serve');
  after(async () => {
    await killAllClis();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs, refuses a second server on its directory, shuts down gracefully and restarts on the same data', async () => {
    const first = await startServe(dataDir);

    // The banner says where it listens, where data lives, where the docs are and how to get a token.
    const banner = first.stderr();
    assert.match(banner, /listening on http:\/\/127\.0\.0\.1:\d+ \(embedded mode\)/);
    assert.ok(banner.includes(dataDir), `the banner names the data directory:\n${banner}`);
    assert.match(banner, /\/v1\/swagger/);
    assert.match(banner, /token --sub alice --address/);
    assert.ok(banner.includes(`DATA_DIR=${dataDir}`), 'the token hint names the non-default DATA_DIR');

    const ready = await get(`${first.url}/ready`);
    assert.equal(ready.status, 200);
    assert.equal(JSON.parse(ready.body).checks.database, 'ok');
    assert.equal(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'), String(first.pid));

    // A second server on the same directory refuses to start, naming the first one's pid.
    const second = await runCli(['serve'], { DATA_DIR: dataDir, PORT: '0' });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, new RegExp(`in use by another devices-api process \\(pid ${first.pid}\\)`));
    assert.equal(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8'), String(first.pid), 'the refused server left the lock alone');

    const tok = await runCli(['token', '--sub', 'alice', '--address', ADDRESS], { DATA_DIR: dataDir });
    assert.equal(tok.code, 0, tok.stderr);
    const token = tok.stdout.trim();

    // Requests in flight when SIGTERM arrives all complete.
    const inFlight = Array.from({ length: 3 }, () =>
      slowPost(`${first.url}/v1/user/devices`, token, { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' }),
    );
    await first.waitForCount('stdout', /"method":"POST","url":"\/v1\/user\/devices".*"msg":"incoming request"/, 3);
    first.child.kill('SIGTERM');
    await first.waitFor('stdout', /"msg":"shutting down"/);
    for (const r of inFlight) r.finish();
    const replies = await Promise.all(inFlight.map((r) => r.response));
    for (const r of replies) {
      assert.equal(r.status, 201, r.body);
      assert.equal(JSON.parse(r.body).userDevice.deviceDefinition.definitionId, 'ford_bronco_2021');
    }

    const { code, signal } = await exitWithin(first, 30_000);
    assert.equal(signal, null);
    assert.equal(code, 0, first.stderr());
    assert.equal(fs.existsSync(path.join(dataDir, LOCK_FILE)), false, 'the lock file is removed on shutdown');
    await assert.rejects(get(`${first.url}/ready`), { code: 'ECONNREFUSED' });

    // A new server starts on the same directory and has the vehicles registered during shutdown.
    const third = await startServe(dataDir);
    assert.equal((await get(`${third.url}/ready`)).status, 200);
    const me = await get(`${third.url}/v1/user/devices/me`, token);
    assert.equal(me.status, 200);
    assert.equal(JSON.parse(me.body).userDevices.length, 3);
    third.child.kill('SIGTERM');
    assert.equal((await exitWithin(third, 30_000)).code, 0);
  });

  it('refuses a taken port before migrating or deploying, leaving DATA_DIR untouched, and names the port', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const parent = tempDir('serve-port');
    const dir = path.join(parent, 'data');
    try {
      const p = spawnCli(['serve'], { DATA_DIR: dir, PORT: String(port) });
      // Bounded well under a first start's migrate + deploy, which would come before a late bind.
      const { code } = await exitWithin(p, 15_000);
      assert.notEqual(code, 0);
      assert.match(p.stderr(), new RegExp(`PORT ${port} is in use on 127\\.0\\.0\\.1; set PORT=`));
      assert.equal(fs.existsSync(dir), false, `DATA_DIR was created: ${fs.existsSync(dir) ? fs.readdirSync(dir).join(' ') : ''}`);
    } finally {
      blocker.close();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
