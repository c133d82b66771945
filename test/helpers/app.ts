// Builds the real app over a fresh test database, listening on a loopback port, with a test
// token issuer whose tokens the app trusts exactly as production trusts its JWKS.
import type { FastifyInstance } from 'fastify';
import { SignJWT, generateKeyPair, type CryptoKey } from 'jose';
import { buildApp, type AppDeps } from '../../src/app.ts';
import { createServices, type Services } from '../../src/composition.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createTokenVerifier } from '../../src/auth/verifier.ts';
import { createDefinitionCatalog, type DefinitionCatalog } from '../../src/definitions/catalog.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';

export const TEST_ISSUER = 'https://issuer.test';
export const TEST_AUDIENCE = 'devices-api-test';

export interface TestIssuer {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  token(sub: string, opts?: { address?: string; ttlSeconds?: number; issuer?: string; audience?: string }): Promise<string>;
}

export async function createTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  return {
    privateKey,
    publicKey,
    token: (sub, opts = {}) =>
      new SignJWT(opts.address ? { ethereum_address: opts.address } : {})
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject(sub)
        .setIssuer(opts.issuer ?? TEST_ISSUER)
        .setAudience(opts.audience ?? TEST_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.ttlSeconds ?? 3600))
        .sign(privateKey),
  };
}

export function testConfig(env: Record<string, string> = {}): Config {
  const r = loadConfig({ DATA_DIR: '.tmp/unused', PUBLIC_BASE_URL: 'http://api.test', ...env });
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

export interface TestApp {
  app: FastifyInstance;
  url: string;
  database: TestDatabase;
  catalog: DefinitionCatalog;
  issuer: TestIssuer;
  config: Config;
  /** The app's blob store: `deps.blobStore`, or by default an fs store in a temp dir removed on close. */
  blobStore: BlobStore;
  /** The services behind the routes (createServices, as `serve` builds them), for set-up a route does not offer. */
  services: Services;
  /** A bearer token for `sub` (optionally with an address). */
  token(sub: string, address?: string): Promise<string>;
  /** fetch against the app with an optional token and JSON body; returns status, parsed JSON and headers. */
  request(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  catalog?: DefinitionCatalog;
  deps?: Partial<AppDeps>;
}

export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig(opts.env);
  const database = await createTestDatabase();
  const catalog = opts.catalog ?? (await createDefinitionCatalog());
  const issuer = await createTestIssuer();
  const verifier = createTokenVerifier([{ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, key: issuer.publicKey }]);
  const blobDir = opts.deps?.blobStore ? undefined : mkdtempSync(join(tmpdir(), 'devices-api-test-blobs-'));
  const blobStore = opts.deps?.blobStore ?? createFsBlobStore({ root: blobDir! });
  const deps: AppDeps = { config, database, catalog, verifier, ...opts.deps, blobStore };
  const services = opts.deps?.services ?? createServices(config, deps);
  const app = await buildApp({ ...deps, services });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    app,
    url,
    database,
    catalog,
    issuer,
    config,
    blobStore,
    services,
    token: (sub, address) => issuer.token(sub, { address }),
    request: async (method, path, o = {}) => {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      }
      const res = await fetch(url + path, { method, headers, body });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json, text, headers: res.headers };
    },
    close: async () => {
      await app.close();
      if (!opts.catalog) await catalog.close();
      await database.destroy();
      if (blobDir) rmSync(blobDir, { recursive: true, force: true });
    },
  };
}
