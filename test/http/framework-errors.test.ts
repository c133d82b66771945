// Errors raised before any route runs — by Node's HTTP parser, the router, CORS — leave in the
// same {code, message, error, requestId} shape as every other error; and the root answers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTestApp, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog, type Response } from '../helpers/http-assert.ts';

/** Writes `raw` on a new connection, half-closes if asked, and parses whatever comes back. */
function rawRequest(url: string, raw: string, halfClose: boolean): Promise<Response> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let got = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within 10 s, got ${JSON.stringify(got)}`)), 10_000);
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', ...rest] = got.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = new Headers(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      const text = rest.join('\r\n\r\n');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), json, text, headers });
    });
    if (halfClose) socket.end(raw);
    else socket.write(raw);
  });
}

describe('errors before any route runs', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
    token = await t.token('alice');
  });
  after(() => t.close());

  it('answers headers over the limit (a 20 KB Authorization) with 431', async () => {
    const raw = `GET /v1/user/devices/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20480)}\r\n\r\n`;
    assertError(await rawRequest(t.url, raw, false), 431, { error: 'HEADERS_TOO_LARGE' });
  });

  it('answers a body shorter than its Content-Length, then a half-closed socket, with 400', async () => {
    const raw = `POST /v1/user/devices/fromvin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"vin":`;
    assertError(await rawRequest(t.url, raw, true), 400, { message: /Content-Length/ });
  });

  it('answers a path parameter over 256 characters with 414, without echoing the path', async () => {
    const long = 'serial'.repeat(60);
    const r = await t.request('GET', `/v1/aftermarket/device/by-serial/${long}`, { token });
    assertError(r, 414, { error: 'URI_TOO_LONG' });
    assert.ok(!r.text.includes(long.slice(0, 40)), r.text);
  });

  it('answers malformed percent-encoding with 400', async () => {
    for (const path of ['/v1/aftermarket/device/by-serial/%zz', '/v1/documents/%E0%A4%A']) {
      assertError(await t.request('GET', path, { token }), 400, { error: 'BAD_REQUEST', message: /percent-encoding/ });
    }
  });

  it('answers a CORS preflight without Origin (or without the method it asks for) with 400', async () => {
    assertError(await t.request('OPTIONS', '/v1/user/devices/me'), 400, { message: /Origin/ });
    assertError(await t.request('OPTIONS', '/v1/user/devices/me', { headers: { origin: 'https://app.test' } }), 400);
    const ok = await t.request('OPTIONS', '/v1/user/devices/me', { headers: { origin: 'https://app.test', 'access-control-request-method': 'GET' } });
    assert.equal(ok.status, 204);
  });

  it('answers an unsupported method on a known path with 405 and Allow, an unknown path with 404', async () => {
    const r = await t.request('POST', '/health');
    assertError(r, 405, { error: 'METHOD_NOT_ALLOWED' });
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    const p = await t.request('PATCH', '/v1/documents/2ZZZZZZZZZZZZZZZZZZZZZZZZZZ', { token });
    assertError(p, 405);
    assert.equal(p.headers.get('allow'), 'DELETE, GET, HEAD');
    assertError(await t.request('POST', '/v1/nothing-here'), 404, { error: 'ROUTE_NOT_FOUND' });
  });

  it('answers an infinite or out-of-range number in a query with 400 naming it', async () => {
    for (const q of ['1e999', 'Infinity', '-Infinity', '1e3']) {
      assertError(await t.request('GET', `/v1/documents?limit=${q}`, { token }), 400, { message: /limit/ });
    }
  });

  it('answers GET / with a JSON index, and a browser with a redirect to the docs', async () => {
    const r = await t.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'devices-api');
    assert.deepEqual(r.json.links, { docs: '/v1/swagger', openapi: '/v1/openapi.json', health: '/health', ready: '/ready' });
    const browser = await fetch(`${t.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    assert.equal(browser.status, 302);
    assert.equal(browser.headers.get('location'), '/v1/swagger');
  });

  it('says in the OpenAPI document that unknown input is ignored, and no request schema forbids it', async () => {
    const doc = (await t.request('GET', '/v1/openapi.json')).json;
    assert.match(doc.info.description, /Unknown query parameters and unknown JSON body fields/);
    assert.ok(!JSON.stringify(doc.paths).includes('"additionalProperties":false'), 'a schema still says additionalProperties: false');
  });
});
