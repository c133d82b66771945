// Assembles the running service from config: picks the engines, opens them in order, and
// closes them in reverse on shutdown.
import path from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { buildApp } from './app.ts';
import { openPglite, openPostgres, type Database } from './db/engine.ts';
import { lockDataDir, type DataDirLock } from './db/data-dir-lock.ts';
import { createDefinitionCatalog, type DefinitionCatalog } from './definitions/catalog.ts';
import { loadDevIssuer } from './auth/dev-issuer.ts';
import { createTokenVerifier, devIssuer, remoteIssuer, type TrustedIssuer } from './auth/verifier.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { createBlobStore } from './storage/factory.ts';
import { startPeriodicReconciler } from './services/document-reconciler.ts';
import { createServices } from './composition.ts';

export { createServices };
import type { Logger } from './lib/logger.ts';
import { createDtcEnricher, type DtcEnricher } from './dtc/enrichment.ts';
import { startEventPruner } from './events/retention.ts';
import { openCheckedChain, type RunningChain } from './chain/setup.ts';
import { startChainWorkers, workerReadiness, type ChainWorkers } from './chain/workers.ts';
import { indexerPollMs } from './chain/config.ts';
import { createRedisRateCounter, type SharedRateCounter } from './storage/redis-rate-counter.ts';
import { bindStartupListener, PortUnavailableError, type StartupListener } from './http/startup-listener.ts';

export interface Service {
  app: FastifyInstance;
  database: Database;
  chain: RunningChain;
  close(): Promise<void>;
}

export interface OpenDatabaseResult {
  database: Database;
  lock: DataDirLock | null;
}

/** PostgreSQL when DATABASE_URL is set, else PGlite in DATA_DIR/pg guarded by the data-dir lock. */
export async function openConfiguredDatabase(config: Config): Promise<OpenDatabaseResult> {
  if (config.databaseUrl) return { database: openPostgres({ url: config.databaseUrl }), lock: null };
  const lock = lockDataDir(config.dataDir);
  try {
    return { database: await openPglite({ dataDir: path.join(config.dataDir, 'pg') }), lock };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** For one-shot commands: the configured database, migrated as `serve` would; `close` also releases the lock. */
export async function openMigratedDatabase(config: Config): Promise<{ database: Database; close: () => Promise<void> }> {
  const { database, lock } = await openConfiguredDatabase(config);
  const close = async () => {
    await database.close();
    lock?.release();
  };
  try {
    if (config.migrateOnStart) await database.migrate();
  } catch (e) {
    await close();
    throw e;
  }
  return { database, close };
}

export async function trustedIssuers(config: Config): Promise<TrustedIssuer[]> {
  const issuers: TrustedIssuer[] = [];
  const { jwksUrl, issuer, audience } = config.jwt;
  if (jwksUrl && issuer && audience) issuers.push(remoteIssuer(jwksUrl, issuer, audience));
  if (config.mode === 'embedded') issuers.push(devIssuer((await loadDevIssuer(config.dataDir)).publicKey, config.jwt.maxLifetimeSeconds));
  return issuers;
}

/** The optional DTC enricher: only when both DTC_ENRICH_URL and DTC_ENRICH_KEY are set. */
export function dtcEnricherFrom(config: Config, logger?: Logger): DtcEnricher | undefined {
  const { enrichUrl, enrichKey, enrichModel, enrichTimeoutMs } = config.dtc;
  if (!enrichUrl || !enrichKey) {
    if (enrichUrl || enrichKey) logger?.warn({}, 'DTC enrichment is off: set both DTC_ENRICH_URL and DTC_ENRICH_KEY');
    return undefined;
  }
  return createDtcEnricher({ url: enrichUrl, apiKey: enrichKey, model: enrichModel, timeoutMs: enrichTimeoutMs, logger });
}

/** S3 when S3_BUCKET is set (standard AWS credential chain), else `DATA_DIR/blobs`. */
export function blobStoreFrom(config: Config): BlobStore {
  return createBlobStore({ dataDir: config.dataDir, s3Bucket: config.s3.bucket, s3Region: config.s3.region, s3Endpoint: config.s3.endpoint });
}

/** Rate-limit counters in Redis when REDIS_URL is set; its outages are logged at most every 30 s. */
export function sharedRateCounterFrom(config: Config, logger: Logger): SharedRateCounter | undefined {
  if (!config.redisUrl) return undefined;
  let warnedAt = -Infinity;
  return createRedisRateCounter({
    url: config.redisUrl,
    onError: (err) => {
      if (Date.now() - warnedAt < 30_000) return;
      warnedAt = Date.now();
      logger.warn({ err: err.message }, 'REDIS_URL unreachable: rate limits are counted per replica until it answers');
    },
    onReady: () => logger.info('rate limits are counted in Redis (REDIS_URL), shared by every replica'),
  });
}

type Cleanup = () => Promise<void> | void;

/**
 * The database (migrated when this process should) and the checked chain. Their closes go onto
 * `cleanups`, which the caller runs in reverse.
 */
async function openDatabaseAndChain(config: Config, logger: FastifyBaseLogger, cleanups: Cleanup[]): Promise<{ database: Database; chain: RunningChain }> {
  const { database, lock } = await openConfiguredDatabase(config);
  if (lock) cleanups.push(() => lock.release());
  // Anvil stops (and dumps its state) after the database closes, before the data-dir lock goes.
  const chainSlot = { close: async (): Promise<void> => {} };
  cleanups.push(() => chainSlot.close());
  cleanups.push(() => database.close());
  if (config.migrateOnStart) await database.migrate();
  const chain = await openCheckedChain(config, database.db, { dataDirLocked: lock !== null, logger });
  chainSlot.close = () => chain.close();
  return { database, chain };
}

/** `startup`: the port, already bound by the caller (`serve` binds it before loading this module); else bound here. */
export async function startService(config: Config, logger: FastifyBaseLogger, opts: { startup?: StartupListener } = {}): Promise<Service> {
  const cleanups: Cleanup[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    // The port first: a clash fails in a second, before DATA_DIR or the database is touched.
    const startup = opts.startup ?? (await bindStartupListener(config.port, config.host));
    cleanups.push(() => startup.close());
    const catalog: DefinitionCatalog = await createDefinitionCatalog();
    cleanups.push(() => catalog.close());
    const { database, chain } = await openDatabaseAndChain(config, logger, cleanups);
    await catalog.ready();
    const verifier = createTokenVerifier(await trustedIssuers(config));
    const dtcEnricher = dtcEnricherFrom(config, logger);
    const blobStore = blobStoreFrom(config);
    cleanups.push(() => blobStore.close());
    const workerSlot: { current?: ChainWorkers } = {};
    const readiness = { blobStore: () => blobStore.ping(), chain: () => chain.ready(), ...workerReadiness(() => workerSlot.current) };
    // The workers start last (below); a request enqueued before that waits for their first tick.
    const relayerAlarm = { wake: (): void => {} };
    const onTransactionQueued = () => relayerAlarm.wake();
    const sharedRateCounter = sharedRateCounterFrom(config, logger);
    if (sharedRateCounter) cleanups.push(() => sharedRateCounter.close());
    const serviceDeps = { database, catalog, logger, dtcEnricher, blobStore, chain: chain.context, onTransactionQueued };
    const services = createServices(config, serviceDeps);
    const app = await buildApp({ config, ...serviceDeps, verifier, readiness, sharedRateCounter, services });
    cleanups.push(() => app.close());
    await startup.close();
    await app.listen({ port: startup.port, host: config.host }).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EADDRINUSE' || e.code === 'EACCES' ? new PortUnavailableError(startup.port, config.host, e) : e;
    });
    const reconciler = startPeriodicReconciler({
      ...services.documentReconcile,
      intervalMs: config.documents.reconcileIntervalMs,
      log: logger,
    });
    cleanups.push(() => reconciler.stop());
    const pruner = startEventPruner({ db: database.db, retentionMs: config.events.retentionMs, log: logger });
    cleanups.push(() => pruner.stop());
    // Pushed last so they stop first: no worker touches the database or the chain once closing starts.
    const started = startChainWorkers({ database, chain: chain.context, publicBaseUrl: config.publicBaseUrl, logger, metrics: app.metrics, indexerPollMs: indexerPollMs(config.chain), ...config.ready, webhooks: config.webhooks });
    workerSlot.current = started;
    relayerAlarm.wake = () => started.relayer.wake();
    cleanups.push(() => started.stop());
    return { app, database, chain, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface WorkerService {
  database: Database;
  chain: RunningChain;
  close(): Promise<void>;
}

/** `devices-api worker`: the relayer and indexer without HTTP, for deployments that run them apart. */
export async function startWorkerService(config: Config, logger: FastifyBaseLogger): Promise<WorkerService> {
  const cleanups: Cleanup[] = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c();
  };
  try {
    const { database, chain } = await openDatabaseAndChain(config, logger, cleanups);
    const workers = startChainWorkers({ database, chain: chain.context, publicBaseUrl: config.publicBaseUrl, logger, indexerPollMs: indexerPollMs(config.chain), webhooks: config.webhooks });
    cleanups.push(() => workers.stop());
    const pruner = startEventPruner({ db: database.db, retentionMs: config.events.retentionMs, log: logger });
    cleanups.push(() => pruner.stop());
    return { database, chain, close };
  } catch (e) {
    await close();
    throw e;
  }
}
