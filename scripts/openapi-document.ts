// The OpenAPI document without a running server: builds the app over stand-ins that are never
// called (no database, chain, catalog or files are opened) and answers app.swagger(). Routes that
// exist only with a chain are registered with a stand-in chain, and the document is the embedded
// mode's, so it is what `npm start` serves at /v1/openapi.json.
import { buildApp, type AppDeps } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { drizzle } from 'drizzle-orm/pg-proxy';
import * as schema from '../src/db/schema.ts';
import type { ChainContext } from '../src/chain/context.ts';

/** A local base URL: the document's servers entry is then '/', so the committed copy names no host. */
const PUBLIC_BASE_URL = 'http://localhost:8080';

const unused = (what: string) =>
  new Proxy({}, { get: (_t, key) => (key === 'then' ? undefined : () => Promise.reject(new Error(`${what}.${String(key)} is not available while generating the document`))) });

export async function openapiDocument(): Promise<unknown> {
  const loaded = loadConfig({ DATA_DIR: '.tmp/openapi', PUBLIC_BASE_URL, DEVICES_API_MODE: 'embedded' });
  if (!loaded.ok) throw new Error(loaded.problems.join('; '));
  const zero = '0x0000000000000000000000000000000000000000';
  const chain = {
    chainId: 31337,
    deployment: { registry: zero },
    publicClient: unused('publicClient'),
  } as unknown as ChainContext;
  const deps: AppDeps = {
    config: loaded.config,
    // Services prepare their queries when built; a proxy database builds them and never runs one.
    database: { kind: 'pglite', db: drizzle(() => Promise.reject(new Error('no database while generating the document')), { schema }), listen: async () => ({ close: async () => undefined }) } as unknown as AppDeps['database'],
    catalog: unused('catalog') as AppDeps['catalog'],
    verifier: () => Promise.reject(new Error('no tokens while generating the document')),
    blobStore: unused('blobStore') as AppDeps['blobStore'],
    chain,
  };
  const app = await buildApp(deps);
  try {
    await app.ready();
    return app.swagger();
  } finally {
    await app.close();
  }
}

