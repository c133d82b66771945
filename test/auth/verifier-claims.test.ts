// Claims the verifier insists on beyond the signature: an expiry, a sane issue time, and (for the
// dev issuer) a bounded lifetime, so a leaked dev token does not work for ever.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair } from 'jose';
import { createTokenVerifier, devIssuer, InvalidTokenError } from '../../src/auth/verifier.ts';
import { DEV_AUDIENCE, DEV_ISSUER } from '../../src/auth/dev-issuer.ts';

const DAY = 24 * 3600;

async function devSetup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const now = Math.floor(Date.now() / 1000);
  const sign = (edit: (jwt: SignJWT) => SignJWT) =>
    edit(new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('alice').setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE)).sign(privateKey);
  return { now, sign, verify: createTokenVerifier([devIssuer(publicKey, DAY)]) };
}

describe('token claims', () => {
  it('accepts a dev token that lives exactly JWT_MAX_LIFETIME', async () => {
    const s = await devSetup();
    const token = await s.sign((j) => j.setIssuedAt(s.now).setExpirationTime(s.now + DAY));
    assert.equal((await s.verify(token)).id, 'alice');
  });

  it('refuses a dev token that lives longer than JWT_MAX_LIFETIME, with or without iat', async () => {
    const s = await devSetup();
    for (const token of [
      await s.sign((j) => j.setIssuedAt(s.now).setExpirationTime(s.now + DAY + 60)),
      await s.sign((j) => j.setExpirationTime(s.now + 30 * DAY)),
    ]) {
      await assert.rejects(s.verify(token), (e: Error) => e instanceof InvalidTokenError && /JWT_MAX_LIFETIME/.test(e.message));
    }
  });

  it('refuses a token without exp', async () => {
    const s = await devSetup();
    await assert.rejects(s.verify(await s.sign((j) => j.setIssuedAt(s.now))), /no expiry/);
  });

  it('leaves the lifetime of other issuers to them', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setSubject('bob').setIssuer('iss').setAudience('aud').setIssuedAt(now).setExpirationTime(now + 30 * DAY).sign(privateKey);
    const verify = createTokenVerifier([{ issuer: 'iss', audience: 'aud', key: publicKey }]);
    assert.equal((await verify(token)).id, 'bob');
  });
});
