import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { createTokenVerifier, InvalidTokenError } from '../../src/auth/verifier.ts';

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  let keyLookups = 0;
  const key = async () => {
    keyLookups++;
    return publicKey;
  };
  const sign = (exp: number) =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setIssuer('iss').setAudience('aud').setExpirationTime(exp).sign(privateKey);
  return { key, sign, lookups: () => keyLookups };
}

describe('token verifier cache', () => {
  it('checks the signature once for a repeated token', async () => {
    const s = await setup();
    const token = await s.sign(Math.floor(Date.now() / 1000) + 300);
    const verify = createTokenVerifier([{ issuer: 'iss', audience: 'aud', key: s.key }]);
    assert.equal((await verify(token)).id, 'alice');
    assert.equal((await verify(token)).id, 'alice');
    assert.equal(s.lookups(), 1);
  });

  it('checks again once the cache lifetime or the token expiry has passed', async () => {
    const s = await setup();
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await s.sign(exp);
    let clock = Date.now();
    const verify = createTokenVerifier([{ issuer: 'iss', audience: 'aud', key: s.key }], { now: () => clock, cacheTtlMs: 1000 });
    await verify(token);
    clock += 1001;
    await verify(token);
    assert.equal(s.lookups(), 2);
    clock = exp * 1000 + 1;
    await verify(token).catch(() => undefined);
    assert.equal(s.lookups(), 3);
  });

  it('does not cache failures', async () => {
    const s = await setup();
    const verify = createTokenVerifier([{ issuer: 'iss', audience: 'aud', key: s.key }]);
    await assert.rejects(verify('not.a.jwt'), InvalidTokenError);
    await assert.rejects(verify('not.a.jwt'), InvalidTokenError);
  });
});
