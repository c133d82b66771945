// Which address the rate limit keys an anonymous caller on: the socket's, unless TRUST_PROXY says
// which proxies may name the client in X-Forwarded-For.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp } from '../helpers/app.ts';
import { emptyCatalog } from '../helpers/http-assert.ts';
import { PRODUCTION_ENV } from '../helpers/production-env.ts';

/** Statuses of anonymous GETs, each claiming a new client address in X-Forwarded-For. */
async function spoofedStatuses(env: Record<string, string>, n: number): Promise<number[]> {
  const t = await createTestApp({ catalog: emptyCatalog, env: { RATE_LIMIT_MAX: '3', ...env } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await t.request('GET', '/v1/openapi.json', { headers: { 'x-forwarded-for': `10.0.0.${i + 1}` } })).status);
    return statuses;
  } finally {
    await t.close();
  }
}

describe('client addresses behind proxies', () => {
  it('ignores a spoofed X-Forwarded-For by default: every request counts against the socket address', async () => {
    assert.deepEqual(await spoofedStatuses({}, 5), [200, 200, 200, 429, 429]);
  });

  it('ignores a spoofed X-Forwarded-For by default in production mode too', async () => {
    assert.deepEqual(await spoofedStatuses({ ...PRODUCTION_ENV, ALLOW_LOCAL_BLOBS: 'true' }, 5), [200, 200, 200, 429, 429]);
  });

  it('keys on the forwarded client when the socket address is a trusted proxy (TRUST_PROXY as a CIDR list)', async () => {
    assert.deepEqual(await spoofedStatuses({ TRUST_PROXY: '10.9.0.0/16, 127.0.0.0/8' }, 5), [200, 200, 200, 200, 200]);
  });

  it('keys on the forwarded client with a hop count', async () => {
    assert.deepEqual(await spoofedStatuses({ TRUST_PROXY: '1' }, 5), [200, 200, 200, 200, 200]);
  });

  it('ignores X-Forwarded-For from a socket address outside the trusted list', async () => {
    assert.deepEqual(await spoofedStatuses({ TRUST_PROXY: '10.9.0.0/16' }, 5), [200, 200, 200, 429, 429]);
  });
});
