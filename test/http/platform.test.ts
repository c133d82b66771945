// What every route shares: the error shape, request ids, security headers, CORS, body limits,
// operations endpoints (health, readiness, metrics) and the OpenAPI document.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { aftermarketDevices } from '../../src/db/schema.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';

const KSUID = '2AbCdEfGhIjKlMnOpQrStUvWxYz';

/** Full route paths and methods from Fastify's own route tree (`printRoutes`). */
function registeredRoutes(tree: string): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)(?:[├└]── )(.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const node = m[2]!;
    const withMethods = /^(.*) \(([A-Z, ]+)\)$/.exec(node);
    const segment = withMethods ? withMethods[1]! : node;
    stack.length = depth;
    stack.push(segment);
    if (withMethods) for (const method of withMethods[2]!.split(', ')) out.push({ method, path: stack.join('') });
  }
  return out;
}

/** Routes that are deliberately not in the OpenAPI document. */
const UNDOCUMENTED = (r: { method: string; path: string }) =>
  r.method === 'HEAD' ||
  (r.method === 'OPTIONS' && r.path === '*') || // CORS preflight
  r.path === '/metrics' ||
  r.path === '/v1/openapi.json' ||
  r.path === '/v1/swagger' ||
  r.path.startsWith('/v1/swagger/');

describe('platform behaviour shared by every route', () => {
  let t: TestApp;
  let alice: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    alice = await t.token('alice');
  });
  after(() => t.close());

  describe('errors', () => {
    it('answers an unknown route with 404 in the error shape', async () => {
      assertError(await t.request('GET', '/v1/no-such-thing'), 404, { error: 'ROUTE_NOT_FOUND', message: /\/v1\/no-such-thing/ });
      assertError(await t.request('GET', '/v1/no-such-thing?x=1', { token: alice }), 404, { error: 'ROUTE_NOT_FOUND' });
      assertError(await t.request('POST', '/nope', { body: { a: 1 } }), 404);
    });

    it('answers a known path with an unsupported method with 405 and Allow, in the error shape', async () => {
      const r = await t.request('PUT', '/v1/user/devices/me', { token: alice, body: {} });
      assertError(r, 405, { error: 'METHOD_NOT_ALLOWED' });
      assert.equal(r.headers.get('allow'), 'DELETE, GET, HEAD');
      const health = await t.request('POST', '/health');
      assertError(health, 405, { error: 'METHOD_NOT_ALLOWED', message: /GET/ });
      assert.equal(health.headers.get('allow'), 'GET, HEAD');
    });

    it('does not echo markup from the URL into the error message unescaped as HTML', async () => {
      const r = await t.request('GET', '/v1/%3Cscript%3E');
      assertError(r, 404);
      assert.match(r.headers.get('content-type')!, /application\/json/);
    });

    it('answers a body that is not JSON with 400', async () => {
      const r = await t.request('POST', '/v1/user/devices', { token: alice, body: '{"deviceDefinitionId": ' });
      assertError(r, 400, { message: /JSON/ });
    });

    it('answers an unsupported content type with 415', async () => {
      const r = await t.request('POST', '/v1/user/devices', { token: alice, body: 'hello', headers: { 'content-type': 'text/plain' } });
      assertError(r, 415);
    });

    it('answers a body over the size limit with 413', async () => {
      const big = { deviceDefinitionId: 'x'.repeat(1024 * 1024 + 10), countryCode: 'USA' };
      assertError(await t.request('POST', '/v1/user/devices', { token: alice, body: big }), 413, { error: 'PAYLOAD_TOO_LARGE' });
    });

    it('ignores unknown body fields but still checks the known ones', async () => {
      const ok = await t.request('POST', '/v1/user/devices', {
        token: alice,
        body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA', userId: 'mallory', tokenId: 1 },
      });
      // Past validation: this app's catalog is empty, so the definition is what is missing.
      assertError(ok, 404, { error: 'NOT_FOUND', message: /definition/ });
      const bad = await t.request('POST', '/v1/user/devices', { token: alice, body: { deviceDefinitionId: 42, countryCode: 'USA', userId: 'mallory' } });
      assertError(bad, 400, { error: 'VALIDATION_FAILED', message: /deviceDefinitionId/ });
    });

    it('answers a missing required field with 400 naming it', async () => {
      const r = await t.request('POST', '/v1/user/devices', { token: alice, body: { countryCode: 'USA' } });
      assertError(r, 400, { error: 'VALIDATION_FAILED', message: /deviceDefinitionId/ });
    });

    it('answers a malformed KSUID in a path with 400', async () => {
      for (const id of ['not-a-ksuid', '123', `${KSUID}x`, 'AbCdEfGhIjKlMnOpQrStUvWxY!z']) {
        const r = await t.request('DELETE', `/v1/user/devices/${encodeURIComponent(id)}`, { token: alice });
        assertError(r, 400, { message: /userDeviceId/ });
      }
    });
  });

  describe('request ids', () => {
    it('puts x-request-id on every response, matching the error body', async () => {
      const responses = [
        await t.request('GET', '/health'),
        await t.request('GET', '/v1/user/devices/me', { token: alice }),
        await t.request('GET', '/v1/user/devices/me'),
        await t.request('GET', '/v1/nowhere'),
        await t.request('DELETE', '/v1/user/devices/bad', { token: alice }),
        await t.request('GET', '/v1/openapi.json'),
        await t.request('GET', '/metrics'),
        await t.request('OPTIONS', '/health', { headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } }),
      ];
      const ids = responses.map((r) => r.headers.get('x-request-id'));
      for (const [i, id] of ids.entries()) assert.ok(id, `response ${i} has no x-request-id`);
      assert.equal(new Set(ids).size, ids.length, 'request ids repeat');
    });

    it('echoes a sane incoming x-request-id in the header and the error body', async () => {
      const r = await t.request('GET', '/v1/user/devices/me', { headers: { 'x-request-id': 'trace-abc_123.4' } });
      assert.equal(r.headers.get('x-request-id'), 'trace-abc_123.4');
      assert.equal(r.json.requestId, 'trace-abc_123.4');
      const ok = await t.request('GET', '/health', { headers: { 'x-request-id': 'upstream-1' } });
      assert.equal(ok.headers.get('x-request-id'), 'upstream-1');
    });

    it('replaces an insane incoming x-request-id with its own', async () => {
      for (const bad of ['has spaces in it', 'x'.repeat(200), '<script>', 'a,b']) {
        const r = await t.request('GET', '/health', { headers: { 'x-request-id': bad } });
        const id = r.headers.get('x-request-id');
        assert.ok(id && id !== bad, `echoed ${JSON.stringify(bad)}`);
        assert.match(id, /^[A-Za-z0-9._-]{1,128}$/);
      }
    });
  });

  describe('security headers and CORS', () => {
    it('sends security headers on JSON responses, successes and errors alike', async () => {
      for (const r of [await t.request('GET', '/health'), await t.request('GET', '/v1/user/devices/me'), await t.request('GET', '/v1/nowhere')]) {
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('x-frame-options'), 'DENY');
        assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
        assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
        assert.equal(r.headers.get('x-powered-by'), null);
      }
    });

    it('serves Swagger UI without the API content security policy that would break it', async () => {
      const r = await t.request('GET', '/v1/swagger/static/index.html');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /text\/html/);
      assert.doesNotMatch(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    });

    it('answers a CORS preflight on a public route', async () => {
      const r = await t.request('OPTIONS', '/v1/openapi.json', {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      assert.match(r.headers.get('access-control-allow-methods') ?? '', /GET/);
    });

    it('answers a CORS preflight for an authenticated DELETE without a token, allowing the method and the Authorization header', async () => {
      const r = await t.request('OPTIONS', `/v1/user/devices/${KSUID}`, {
        headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization,content-type' },
      });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const methods = (r.headers.get('access-control-allow-methods') ?? '').split(',').map((s) => s.trim());
      for (const m of ['GET', 'POST', 'DELETE', 'PUT', 'PATCH']) assert.ok(methods.includes(m), `preflight does not allow ${m}: ${methods.join(',')}`);
      assert.match(r.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    });

    it('lets browsers read the request id and rate-limit headers of a cross-origin response', async () => {
      const r = await t.request('GET', '/health', { headers: { origin: 'https://app.example' } });
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      const exposed = (r.headers.get('access-control-expose-headers') ?? '').toLowerCase();
      for (const h of ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset']) assert.ok(exposed.includes(h), `${h} not exposed`);
    });
    it('spares a request without Origin (not a browser) the CORS headers, and tells caches the answer depends on it', async () => {
      const r = await t.request('GET', '/health');
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      assert.equal(r.headers.get('access-control-expose-headers'), null);
      assert.match(r.headers.get('vary') ?? '', /Origin/);
    });
  });

  describe('operations endpoints', () => {
    it('answers /health with 200 without a token', async () => {
      const r = await t.request('GET', '/health');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: 'ok' });
    });

    it('answers /ready with 200 when the database answers', async () => {
      const r = await t.request('GET', '/ready');
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'ok');
      assert.equal(r.json.checks.database, 'ok');
    });

    it('exposes http_request_duration_seconds labelled by route template, not raw URL', async () => {
      await t.request('GET', '/v1/user/devices/me', { token: alice });
      await t.request('DELETE', `/v1/user/devices/${KSUID}`, { token: alice });
      await t.request('GET', '/v1/random-path-7f3a');
      const r = await t.request('GET', '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(r.text, /# TYPE http_request_duration_seconds histogram/);
      assert.match(r.text, /http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/v1\/user\/devices\/me"[^}]*status_code="200"[^}]*\} [1-9]/);
      assert.match(r.text, /route="\/v1\/user\/devices\/:userDeviceId"[^}]*status_code="404"/);
      assert.ok(!r.text.includes(KSUID), 'metrics carry a raw id');
      assert.ok(!r.text.includes('random-path-7f3a'), 'metrics carry a raw unknown URL');
      assert.match(r.text, /route="unmatched"[^}]*status_code="404"/);
    });
  });

  describe('OpenAPI document', () => {
    it('is OpenAPI 3.1 with the error schema and bearer security scheme', async () => {
      const r = await t.request('GET', '/v1/openapi.json');
      assert.equal(r.status, 200);
      assert.match(r.json.openapi, /^3\.1\./);
      assert.ok(!r.text.includes('"nullable"'), 'OpenAPI 3.0 "nullable" in a 3.1 document; 3.1 uses type: [..., "null"]');
      assert.equal(r.json.components.securitySchemes.bearerAuth.scheme, 'bearer');
      assert.ok(r.json.components.schemas.Error, 'no Error schema');
      assert.deepEqual(Object.keys(r.json.components.schemas.Error.properties).sort(), ['code', 'error', 'message', 'requestId']);
    });

    it('documents exactly the registered routes', async () => {
      const doc = (await t.request('GET', '/v1/openapi.json')).json;
      const documented = new Set<string>();
      for (const [path, item] of Object.entries<any>(doc.paths)) {
        for (const method of Object.keys(item)) {
          if (['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method)) documented.add(`${method.toUpperCase()} ${path}`);
        }
      }
      const registered = registeredRoutes(t.app.printRoutes({ commonPrefix: false }));
      assert.ok(registered.some((r) => r.path === '/v1/user/devices/:userDeviceId' && r.method === 'DELETE'), 'route tree not parsed');
      const expected = new Set(
        registered.filter((r) => !UNDOCUMENTED(r)).map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
      );
      assert.deepEqual([...expected].filter((x) => !documented.has(x)).sort(), [], 'registered but not documented');
      assert.deepEqual([...documented].filter((x) => !expected.has(x)).sort(), [], 'documented but not registered');
    });

    it('declares a 401 error response on every authenticated operation', async () => {
      const doc = (await t.request('GET', '/v1/openapi.json')).json;
      for (const [path, item] of Object.entries<any>(doc.paths)) {
        for (const [method, op] of Object.entries<any>(item)) {
          if (op?.security?.length) assert.ok(op.responses?.['401'], `${method.toUpperCase()} ${path} does not document 401`);
        }
      }
    });

    it('serves Swagger UI', async () => {
      const r = await t.request('GET', '/v1/swagger');
      assert.ok([200, 302].includes(r.status), `got ${r.status}`);
    });
  });
});

describe('readiness with a failing dependency', () => {
  it('answers /ready with 503 naming the dependency that is down', async () => {
    const t = await createTestApp({
      catalog: emptyCatalog,
      deps: { readiness: { chain: async () => Promise.reject(new Error('connection refused')) } },
    });
    try {
      const r = await t.request('GET', '/ready');
      assert.equal(r.status, 503);
      assert.equal(r.json.status, 'unavailable');
      assert.equal(r.json.checks.database, 'ok');
      assert.match(r.json.checks.chain, /^down: connection refused/);
    } finally {
      await t.close();
    }
  });
});

describe('rate limiting', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog, env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  after(() => t.close());

  it('answers 429 with Retry-After and RateLimit-* headers once a user exceeds the limit', async () => {
    const token = await t.token('limited-user');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.request('GET', '/v1/user/devices/me', { token });
      statuses.push(r.status);
      assert.equal(r.headers.get('ratelimit-limit'), '3');
      assert.equal(r.headers.get('ratelimit-remaining'), String(2 - i));
    }
    assert.deepEqual(statuses, [200, 200, 200]);
    const r = await t.request('GET', '/v1/user/devices/me', { token });
    assertError(r, 429, { error: 'RATE_LIMITED' });
    const retryAfter = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60, `Retry-After ${r.headers.get('retry-after')}`);
    assert.equal(r.headers.get('ratelimit-limit'), '3');
    assert.equal(r.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(r.headers.get('ratelimit-reset')) > 0);
  });

  it('limits each user separately', async () => {
    const a = await t.token('rl-a');
    const b = await t.token('rl-b');
    for (let i = 0; i < 3; i++) assert.equal((await t.request('GET', '/v1/user/devices/me', { token: a })).status, 200);
    assert.equal((await t.request('GET', '/v1/user/devices/me', { token: a })).status, 429);
    assert.equal((await t.request('GET', '/v1/user/devices/me', { token: b })).status, 200);
  });

  it('never limits health, readiness and metrics', async () => {
    for (let i = 0; i < 6; i++) {
      assert.equal((await t.request('GET', '/health')).status, 200);
      assert.equal((await t.request('GET', '/ready')).status, 200);
      assert.equal((await t.request('GET', '/metrics')).status, 200);
    }
  });
});

describe('rate limiting of anonymous callers', () => {
  it('limits requests with invalid tokens per IP, so bad tokens cannot be sent without limit', async () => {
    const t = await createTestApp({ catalog: emptyCatalog, env: { RATE_LIMIT_MAX: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await t.request('GET', '/v1/user/devices/me', { headers: { authorization: 'Bearer garbage' } })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      assertError(await t.request('GET', '/v1/openapi.json'), 429, { error: 'RATE_LIMITED' });
      // A user with a valid token is limited as that user, not by the shared IP.
      assert.equal((await t.request('GET', '/v1/user/devices/me', { token: await t.token('dave') })).status, 200);
    } finally {
      await t.close();
    }
  });

  it('counts only the public metadata lookups that read the database, not answers kept in memory', async () => {
    const t = await createTestApp({ catalog: emptyCatalog, env: { RATE_LIMIT_MAX: '3' } });
    try {
      await t.database.db.insert(aftermarketDevices).values({ tokenId: 1n, serial: 'SER-1', address: `0x${'1'.repeat(40)}`, manufacturerTokenId: 1n, manufacturerName: 'AutoPi' });
      const first = await t.request('GET', '/v1/aftermarket/device/1');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('ratelimit-remaining'), '2', 'the first lookup reads the row');
      for (let i = 0; i < 5; i++) {
        const kept = await t.request('GET', '/v1/aftermarket/device/1');
        assert.equal(kept.status, 200);
        assert.equal(kept.headers.get('ratelimit-remaining'), null, 'a kept answer is not counted');
      }
      const unknown = [];
      for (const id of [7, 8, 9]) unknown.push((await t.request('GET', `/v1/aftermarket/device/${id}`)).status);
      assert.deepEqual(unknown, [404, 404, 429], 'unknown tokens read the database every time');
      assertError(await t.request('GET', '/v1/vehicle/7/image'), 429, { error: 'RATE_LIMITED' });
      assert.equal((await t.request('GET', '/v1/aftermarket/device/1')).status, 200, 'kept answers are still served past the limit');
    } finally {
      await t.close();
    }
  });
});
