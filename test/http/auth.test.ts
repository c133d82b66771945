// Bearer-token authentication over HTTP: every way a token can be wrong is a 401 in the error shape.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { createTestApp, createTestIssuer, TEST_AUDIENCE, TEST_ISSUER, type TestApp } from '../helpers/app.ts';
import { assertError, emptyCatalog } from '../helpers/http-assert.ts';

const ME = '/v1/user/devices/me';
const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('authentication', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ catalog: emptyCatalog });
  });
  after(() => t.close());

  const unauthorized = async (headers: Record<string, string>, message?: RegExp) =>
    assertError(await t.request('GET', ME, { headers }), 401, { error: 'UNAUTHORIZED', message });

  it('accepts a valid token from the trusted issuer', async () => {
    const r = await t.request('GET', ME, { token: await t.token('alice') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { userDevices: [], sharedDevices: [] });
  });

  it('answers 401 without an Authorization header', async () => {
    await unauthorized({}, /Authorization/);
  });

  it('answers 401 for a non-Bearer scheme or an empty bearer', async () => {
    const token = await t.token('alice');
    await unauthorized({ authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` });
    await unauthorized({ authorization: token });
    await unauthorized({ authorization: 'Bearer' });
    await unauthorized({ authorization: 'Bearer   ' });
  });

  it('answers 401 for a garbled token', async () => {
    await unauthorized({ authorization: 'Bearer not-a-jwt' });
    await unauthorized({ authorization: 'Bearer aaaa.bbbb.cccc' });
    await unauthorized({ authorization: 'Bearer {"sub":"alice"}' });
  });

  it('answers 401 for an expired token and says so', async () => {
    const token = await t.issuer.token('alice', { ttlSeconds: -120 });
    await unauthorized({ authorization: `Bearer ${token}` }, /expired/);
  });

  it('answers 401 for a token from an untrusted issuer', async () => {
    const token = await t.issuer.token('alice', { issuer: 'https://evil.test' });
    await unauthorized({ authorization: `Bearer ${token}` });
  });

  it('answers 401 for a token for another audience', async () => {
    const token = await t.issuer.token('alice', { audience: 'some-other-api' });
    await unauthorized({ authorization: `Bearer ${token}` });
  });

  it('answers 401 for an unsigned token (alg: none)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'alice', iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 3600 };
    await unauthorized({ authorization: `Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.` });
    await unauthorized({ authorization: `Bearer ${b64url({ alg: 'none' })}.${b64url(claims)}` });
  });

  it('answers 401 for a token signed by an unknown key under the trusted issuer name', async () => {
    const impostor = await createTestIssuer();
    await unauthorized({ authorization: `Bearer ${await impostor.token('alice')}` });
  });

  it('answers 401 for a token whose claims were altered after signing', async () => {
    const [header, , signature] = (await t.token('alice')).split('.');
    const now = Math.floor(Date.now() / 1000);
    const forged = b64url({ sub: 'bob', iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 3600 });
    await unauthorized({ authorization: `Bearer ${header}.${forged}.${signature}` });
  });

  it('answers 401 for a token without a subject', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(t.issuer.privateKey);
    await unauthorized({ authorization: `Bearer ${token}` }, /subject/);
  });

  const signed = (claims: Record<string, unknown>, edit: (jwt: SignJWT) => SignJWT = (j) => j) =>
    edit(new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE)).sign(t.issuer.privateKey);

  it('answers 401 for a token without exp, which would otherwise be valid forever', async () => {
    const token = await signed({}, (j) => j.setSubject('alice').setIssuedAt());
    await unauthorized({ authorization: `Bearer ${token}` }, /expiry/);
  });

  it('answers 401 for a token issued in the future beyond the clock skew', async () => {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const token = await signed({}, (j) => j.setSubject('alice').setIssuedAt(nowSeconds + 600).setExpirationTime(nowSeconds + 3600));
    await unauthorized({ authorization: `Bearer ${token}` }, /future/);
    const skewed = await signed({}, (j) => j.setSubject('alice').setIssuedAt(nowSeconds + 2).setExpirationTime(nowSeconds + 3600));
    assert.equal((await t.request('GET', ME, { token: skewed })).status, 200);
  });

  it('answers 401, not 500, for a subject with a NUL or another control character', async () => {
    for (const sub of ['ali\u0000ce', 'alice\n', '\u007f']) {
      const token = await signed({}, (j) => j.setSubject(sub).setIssuedAt().setExpirationTime('1h'));
      await unauthorized({ authorization: `Bearer ${token}` }, /control characters/);
    }
  });

  it('treats a malformed ethereum_address claim as no address rather than rejecting the token', async () => {
    const token = await t.issuer.token('carol', { address: 'not-an-address' });
    const r = await t.request('GET', '/v1/user/devices/shared', { token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.sharedDevices, []);
  });

  it('answers 401 before validating anything else on every authenticated route in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/v1/openapi.json')).json;
    const operations: [string, string][] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (op?.security?.some((s: Record<string, unknown>) => 'bearerAuth' in s)) operations.push([method.toUpperCase(), path]);
      }
    }
    assert.ok(operations.length >= 5, `expected the vehicle routes at least, got ${operations.length}`);
    for (const [method, path] of operations) {
      // Deliberately invalid path parameters and body: the 401 must come first.
      const url = path.replace(/\{[^}]+\}/g, 'x');
      const body = method === 'GET' || method === 'DELETE' ? undefined : { unexpected: true };
      const r = await t.request(method, url, { body });
      assert.equal(r.status, 401, `${method} ${path} answered ${r.status} without a token`);
      assertError(r, 401, { error: 'UNAUTHORIZED' });
    }
  });
});
