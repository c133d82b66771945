// CORS with a list of allowed origins (CORS_ORIGINS); the open '*' setting is covered in platform.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { emptyCatalog } from '../helpers/http-assert.ts';

const ALLOWED = 'https://app.example';

describe('CORS with allowed origins', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog, env: { CORS_ORIGINS: `${ALLOWED},https://other.example` } });
  });
  after(() => t.close());

  it('lets an allowed origin read responses and their request id', async () => {
    for (const r of [await t.request('GET', '/health', { headers: { origin: ALLOWED } }), await t.request('GET', '/v1/user/devices/me', { headers: { origin: ALLOWED } })]) {
      assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
      assert.match(r.headers.get('access-control-expose-headers') ?? '', /x-request-id/);
      assert.match(r.headers.get('vary') ?? '', /Origin/);
    }
  });

  it('gives any other origin nothing to read, and tells caches the answer depends on the origin', async () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
      const r = await t.request('GET', '/health', { headers });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      assert.match(r.headers.get('vary') ?? '', /Origin/);
    }
  });

  it('answers a preflight from an allowed origin for an authenticated route', async () => {
    const r = await t.request('OPTIONS', '/v1/user/devices/me', {
      headers: { origin: ALLOWED, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), ALLOWED);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /authorization/i);
    assert.equal(r.headers.get('access-control-max-age'), '600');
  });

  it('answers a preflight from another origin without allowing it', async () => {
    const r = await t.request('OPTIONS', '/v1/user/devices/me', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });
});
