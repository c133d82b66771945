// A database outage answers 503 promptly (never a hang, never a 500) and the service recovers by
// itself when the database comes back. PostgreSQL only: a TCP proxy between the app and the
// server plays the outage (stopped: connections refused; frozen: connections accepted, nothing
// answered).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { openPostgres, type Database } from '../../src/db/engine.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/** A loopback TCP proxy to `target` that can be stopped, restarted on the same port, and frozen. */
async function startProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let frozen = false;
  let server: net.Server | undefined;
  let port = 0;

  function track(s: net.Socket) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        track(client);
        if (frozen) return; // accepted, never answered
        const upstream = net.connect(target.port, target.host);
        track(upstream);
        client.on('data', (d) => {
          if (!frozen) upstream.write(d);
        });
        upstream.on('data', (d) => {
          if (!frozen) client.write(d);
        });
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });

  await listen();
  return {
    get port() {
      return port;
    },
    /** The database "goes down": new connections are refused and open ones are cut. */
    stop: async () => {
      const s = server!;
      server = undefined;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const sock of sockets) sock.destroy();
      await closed;
    },
    /** The database comes back on the same address. */
    restart: listen,
    /** The database stops answering without closing anything. */
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const sock of sockets) sock.destroy(); // connections that missed bytes are unusable
    },
  };
}

const serverUrl = process.env.DATABASE_URL;

describe('database outage', { skip: serverUrl ? false : 'DATABASE_URL is not set: the outage test needs PostgreSQL (run with DATABASE_URL=postgres://…)' }, () => {
  let target: TestDatabase;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let proxied: Database;
  let t: TestApp;
  let token: string;

  before(async () => {
    target = await createTestDatabase();
    const u = new URL(target.url!);
    proxy = await startProxy({ host: u.hostname, port: Number(u.port || 5432) });
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    // A short query timeout keeps the frozen-server case quick; the behaviour is the same at 15 s.
    proxied = openPostgres({ url: u.toString(), poolSize: 5, queryTimeoutMs: 3000 });
    t = await createTestApp({ deps: { database: proxied } });
    token = await t.token('alice');
  });
  after(async () => {
    await t?.close();
    await proxied?.close();
    await proxy?.stop().catch(() => {});
    await target?.destroy();
  });

  /** A request that must complete: a hang fails the test instead of stalling it. */
  async function call(method: string, path: string, body?: unknown) {
    const res = await fetch(t.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  }

  const REGISTER = { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' };

  it('serves normally through the proxy', async () => {
    assert.equal((await call('GET', '/ready')).status, 200);
    assert.equal((await call('POST', '/v1/user/devices', REGISTER)).status, 201);
    assert.equal((await call('GET', '/v1/user/devices/me')).json.userDevices.length, 1);
  });

  it('answers 503 while the database is down, and recovers when it is back', async () => {
    await proxy.stop();

    const ready = await call('GET', '/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.status, 'unavailable');
    assert.match(ready.json.checks.database, /^down/);

    for (const [method, path, body] of [
      ['GET', '/v1/user/devices/me', undefined],
      ['POST', '/v1/user/devices', REGISTER],
    ] as const) {
      const r = await call(method, path, body);
      assert.equal(r.status, 503, `${method} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error, 'SERVICE_UNAVAILABLE');
      assert.equal(r.json.code, 503);
      assert.ok(r.headers.get('retry-after'), 'a 503 says when to retry');
      assert.doesNotMatch(r.json.message, /ECONNREFUSED|127\.0\.0\.1/, 'no internals leak');
    }

    await proxy.restart();
    assert.equal((await call('GET', '/ready')).status, 200);
    const me = await call('GET', '/v1/user/devices/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.userDevices.length, 1, 'the data from before the outage is there, and nothing was written during it');
  });

  it('answers 503 when the database stops answering without closing connections', async () => {
    // Several idle pooled connections, so a request lands on one that is open but unanswered.
    const warm = await Promise.all([1, 2, 3, 4].map(() => call('GET', '/v1/user/devices/me')));
    assert.deepEqual(
      warm.map((r) => r.status),
      [200, 200, 200, 200],
    );
    proxy.freeze();
    try {
      const ready = await call('GET', '/ready');
      assert.equal(ready.status, 503);
      const me = await call('GET', '/v1/user/devices/me');
      assert.equal(me.status, 503, JSON.stringify(me.json));
      assert.equal(me.json.error, 'SERVICE_UNAVAILABLE');
    } finally {
      proxy.thaw();
    }
    // Connections cut by the thaw are replaced: the next requests succeed.
    let me = await call('GET', '/v1/user/devices/me');
    for (let i = 0; i < 5 && me.status === 503; i++) me = await call('GET', '/v1/user/devices/me');
    assert.equal(me.status, 200);
    assert.equal((await call('GET', '/ready')).status, 200);
  });
});
