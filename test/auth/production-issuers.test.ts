// Which tokens the service trusts, wired exactly as `serve` wires it (runtime.trustedIssuers):
// production trusts only the configured JWKS issuer; embedded mode also trusts the dev issuer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { trustedIssuers } from '../../src/runtime.ts';
import { createTokenVerifier } from '../../src/auth/verifier.ts';
import { loadDevIssuer, type DevIssuer } from '../../src/auth/dev-issuer.ts';
import { createDefinitionCatalog, type DefinitionCatalog } from '../../src/definitions/catalog.ts';
import { createTestApp, testConfig, type TestApp } from '../helpers/app.ts';
import { PRODUCTION_ENV } from '../helpers/production-env.ts';
import { tempDir } from '../helpers/cli.ts';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'devices-api';
const KID = 'key-1';

/** A local JWKS endpoint serving one ES256 public key, and a signer for it. */
async function startJwksServer() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (req.url !== '/.well-known/jwks.json') return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    sign: (claims: { sub: string; iss?: string; aud?: string; key?: CryptoKey; kid?: string }) =>
      new SignJWT({ ethereum_address: '0x1111111111111111111111111111111111111111' })
        .setProtectedHeader({ alg: 'ES256', kid: claims.kid ?? KID })
        .setSubject(claims.sub)
        .setIssuer(claims.iss ?? ISSUER)
        .setAudience(claims.aud ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(claims.key ?? privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('trusted token issuers', () => {
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let catalog: DefinitionCatalog;
  let dev: DevIssuer;
  const dataDir = tempDir('issuers');
  const apps: TestApp[] = [];

  before(async () => {
    jwks = await startJwksServer();
    catalog = await createDefinitionCatalog();
    dev = await loadDevIssuer(dataDir);
  });
  after(async () => {
    for (const t of apps) await t.close();
    await catalog.close();
    await jwks.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The real app whose verifier trusts what `serve` would trust under `env`. */
  async function appFor(env: Record<string, string>) {
    const full = { ...env, DATA_DIR: dataDir, JWT_JWKS_URL: jwks.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE };
    const verifier = createTokenVerifier(await trustedIssuers(testConfig(full)));
    const t = await createTestApp({ env: full, catalog, deps: { verifier } });
    apps.push(t);
    return async (token: string) => {
      const r = await t.request('GET', '/v1/user/devices/me', { token });
      return { status: r.status, json: r.json };
    };
  }

  describe('in production mode', () => {
    let me: Awaited<ReturnType<typeof appFor>>;
    before(async () => {
      me = await appFor(PRODUCTION_ENV);
    });

    it('is the mode the app was built in', () => {
      assert.equal(apps.at(-1)!.config.mode, 'production');
    });

    it('accepts a token from the JWKS issuer with the right issuer and audience', async () => {
      const r = await me(await jwks.sign({ sub: 'alice' }));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(jwks.requests() > 0, 'the key came from the JWKS endpoint');
    });

    it('refuses a dev-issuer token', async () => {
      const r = await me(await dev.issue({ sub: 'alice', ttlSeconds: 3600 }));
      assert.equal(r.status, 401);
      assert.match(r.json.message, /not issued by a trusted issuer/);
    });

    it('refuses a JWKS-signed token for another audience', async () => {
      assert.equal((await me(await jwks.sign({ sub: 'alice', aud: 'another-api' }))).status, 401);
    });

    it('refuses a token claiming the trusted issuer but signed by another key', async () => {
      const { privateKey } = await generateKeyPair('ES256');
      assert.equal((await me(await jwks.sign({ sub: 'alice', key: privateKey }))).status, 401);
    });

    it('refuses a token from another issuer signed with the JWKS key', async () => {
      assert.equal((await me(await jwks.sign({ sub: 'alice', iss: 'https://evil.example' }))).status, 401);
    });
  });

  describe('in embedded mode', () => {
    let me: Awaited<ReturnType<typeof appFor>>;
    before(async () => {
      me = await appFor({});
    });

    it('accepts a dev-issuer token from the same data directory', async () => {
      assert.equal((await me(await dev.issue({ sub: 'alice', ttlSeconds: 3600 }))).status, 200);
    });

    it('also accepts the configured JWKS issuer', async () => {
      assert.equal((await me(await jwks.sign({ sub: 'alice' }))).status, 200);
    });

    it('refuses a dev token signed with another data directory key', async () => {
      const otherDir = tempDir('issuers-other');
      try {
        const other = await loadDevIssuer(otherDir);
        assert.equal((await me(await other.issue({ sub: 'alice', ttlSeconds: 3600 }))).status, 401);
      } finally {
        fs.rmSync(otherDir, { recursive: true, force: true });
      }
    });
  });
});
