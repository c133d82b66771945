import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsBlobStore } from '../../src/storage/fs-blob-store.ts';
import { documentRoutesSuite } from './documents-suite.ts';

documentRoutesSuite('fs', async () => {
  const root = await mkdtemp(join(tmpdir(), 'documents-fs-'));
  return { store: createFsBlobStore({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
});
