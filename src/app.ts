// Builds the Fastify app from explicit dependencies; no globals, so tests build as many as they like.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import type { TrustProxy } from './domain/trust-proxy.ts';
import type { Database } from './db/engine.ts';
import type { DefinitionCatalog } from './definitions/catalog.ts';
import type { AuthUser, TokenVerifier } from './auth/verifier.ts';
import { ErrorBody } from './http/errors.ts';
import { errorsPlugin, frameworkErrorHandler, clientErrorHandlerWith } from './http/plugins/errors.ts';
import { emptyBodyPlugin } from './http/plugins/empty-body.ts';
import { securityPlugin } from './http/plugins/security.ts';
import { corsPlugin } from './http/plugins/cors.ts';
import { metricsPlugin } from './http/plugins/metrics.ts';
import { docsPlugin, DOCS_PREFIX } from './http/plugins/docs.ts';
import { withAuth } from './http/plugins/auth.ts';
import { responseCachePlugin } from './http/plugins/response-cache.ts';
import { rateLimitPlugin } from './http/plugins/rate-limit.ts';
import { bodyAsSentValidators } from './http/validator-compiler.ts';
import { addressMatcher, createSlowClientGuard } from './http/slow-clients.ts';
import { healthRoutes, type ReadinessCheck } from './http/routes/health.ts';
import { vehicleRoutes } from './http/routes/vehicles.ts';
import { createVehicleService } from './services/vehicles.ts';
import { documentRoutes } from './http/routes/documents.ts';
import { createDocumentService } from './services/documents.ts';
import type { BlobStore } from './storage/blob-store.ts';
import type { SharedRateCounter } from './storage/redis-rate-counter.ts';
import { errorCodeRoutes } from './http/routes/error-codes.ts';
import { createErrorCodeService } from './services/error-codes.ts';
import { createDtcCatalog } from './domain/dtc/index.ts';
import type { DtcEnricher } from './dtc/enrichment.ts';
import type { ChainContext } from './chain/context.ts';
import type { MetaTxRow } from './chain/outbox.ts';
import { createMakeNodes } from './chain/manufacturers.ts';
import { vehicleMintRoutes } from './http/routes/vehicle-mint.ts';
import { createVehicleMintService } from './services/vehicle-mint.ts';
import { transactionRoutes } from './http/routes/transactions.ts';
import { eventRoutes } from './http/routes/events.ts';
import { createTransactionService } from './services/transactions.ts';
import { publicMetadataRoutes } from './http/routes/public-metadata.ts';
import { createPublicMetadataService } from './services/public-metadata.ts';
import { aftermarketDeviceRoutes } from './http/routes/aftermarket-devices.ts';
import { createAftermarketDeviceService } from './services/aftermarket-devices.ts';
import { createClaimService } from './services/claim.ts';
import { firmwareRoutes } from './http/routes/firmware.ts';
import { createFirmwareUpdateService } from './services/firmware-updates.ts';
import { parseFirmwareConnectors } from './firmware/config.ts';
import { pairingRoutes } from './http/routes/pairing.ts';
import { createPairingService } from './services/pairing.ts';
import { syntheticDeviceRoutes } from './http/routes/synthetic-devices.ts';
import { createSyntheticDeviceService } from './services/synthetic-devices.ts';
import { createSyntheticWallets } from './chain/synthetic-wallet.ts';
import { privilegeRoutes } from './http/routes/privileges.ts';
import { sharingRoutes } from './http/routes/sharing.ts';
import { createSharingService } from './services/sharing.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';
import { createWebhookService } from './services/webhooks.ts';

export interface AppDeps {
  config: Config;
  database: Database;
  catalog: DefinitionCatalog;
  verifier: TokenVerifier;
  /** Document bytes (fs under DATA_DIR, or S3). */
  blobStore: BlobStore;
  /** Extra readiness checks (blob store, chain) beside the database. */
  readiness?: Record<string, ReadinessCheck>;
  /** A pino logger; omit for silence (tests). */
  logger?: FastifyBaseLogger;
  now?: () => Date;
  /** Longer DTC explanations (DTC_ENRICH_URL); omit to answer from the bundled table only. */
  dtcEnricher?: DtcEnricher;
  /** The registry chain (embedded anvil or CHAIN_RPC_URL): clients, addresses, relayer. Omit in tests without a chain. */
  chain?: ChainContext;
  /** Rate-limit counters shared by replicas (Redis, REDIS_URL); omit to count in this process. */
  sharedRateCounter?: SharedRateCounter;
  /** Called after a relayed call's request is committed: wakes the in-process relayer instead of leaving it to its poll. */
  onTransactionQueued?: (request: MetaTxRow) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** POST /v1/documents: a multipart upload of up to DOCUMENT_MAX_BYTES, timed by its pauses rather than its length. */
function isDocumentUpload(req: IncomingMessage): boolean {
  return req.method === 'POST' && (req.url === '/v1/documents' || req.url?.startsWith('/v1/documents?') === true);
}

/**
 * Fastify ignores a numeric trustProxy (it cannot check the nearest peer), so a hop count is given
 * as the equivalent function: the nearest `hops` addresses are proxies. README says when that is safe.
 */
function trustProxyOption(trust: TrustProxy): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const slowClients = createSlowClientGuard({
    ...config.clients,
    isUpload: isDocumentUpload,
    // A trusted proxy carries many clients' connections; with a hop count its address is unknown.
    unbounded: Array.isArray(config.trustProxy) ? addressMatcher(config.trustProxy) : undefined,
  });
  const app = Fastify({
    ...slowClients.serverOptions,
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Path parameters up to 256 characters (device serials may have 128, percent-encoded more).
    routerOptions: { maxParamLength: 256 },
    // Only TRUST_PROXY's proxies may name the client; by default X-Forwarded-For is ignored.
    trustProxy: trustProxyOption(config.trustProxy),
    // Honour a sane incoming id so a request can be traced across services.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    requestIdHeader: false,
    // Unknown query parameters and body fields are dropped before validation (clients add
    // cache-busters and tags the original ignored); known ones keep their strict types.
    ajv: { customOptions: { removeAdditional: 'all', coerceTypes: 'array', useDefaults: true, allErrors: true } },
    // The coercion above is for query strings, params and headers; JSON bodies are checked as sent.
    schemaController: { compilersFactory: { buildValidator: bodyAsSentValidators() } },
    return503OnClosing: true,
    // Errors raised before any route runs leave in the same shape as every other error.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: clientErrorHandlerWith(slowClients.describeTimeout),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addSchema(ErrorBody);
  app.decorateRequest('user', null as unknown as AuthUser);
  await app.register(errorsPlugin);
  await app.register(emptyBodyPlugin);
  await app.register(securityPlugin, { hsts: config.mode === 'production', docsPrefix: DOCS_PREFIX });
  await app.register(metricsPlugin);
  slowClients.install(app);
  await app.register(corsPlugin, {
    origins: config.corsOrigins,
    exposedHeaders: ['x-request-id', 'etag', 'content-disposition', 'content-range', 'accept-ranges', 'x-next-cursor', 'link', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
    // @fastify/cors allows only GET,HEAD,POST by default; browsers must be able to DELETE/PUT/PATCH.
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    maxAgeSeconds: 600,
  });
  // Before any route: it attaches its hook to routes as they are added, after their scope's auth hook.
  await app.register(rateLimitPlugin, { ...config.rateLimit, shared: deps.sharedRateCounter });
  await app.register(docsPlugin, { publicBaseUrl: config.publicBaseUrl, version: '0.1.0' });
  // Before any route: it attaches its hooks to routes as they are added.
  await app.register(responseCachePlugin, { database, ...config.responseCache });

  await app.register(healthRoutes, { checks: { database: () => database.ping(), ...deps.readiness } });
  await app.register(privilegeRoutes);
  await app.register(publicMetadataRoutes, {
    metadata: createPublicMetadataService({ db: database.db, publicBaseUrl: config.publicBaseUrl, manufacturerImageDir: config.manufacturerImageDir }),
  });

  // FIRMWARE_CONNECTORS: a broken setting stops a production server; elsewhere it is reported
  // and firmware updates answer 501 until it is fixed.
  const firmwareSetting = parseFirmwareConnectors(config.firmwareConnectors);
  if (!firmwareSetting.ok) {
    const text = `FIRMWARE_CONNECTORS: ${firmwareSetting.problems.join('; ')}`;
    if (config.mode === 'production') throw new Error(text);
    app.log.warn(text);
  }
  const firmwareConnectors = firmwareSetting.ok ? firmwareSetting.connectors : new Map();

  const vehicles = createVehicleService({ db: database.db, catalog: deps.catalog, publicBaseUrl: config.publicBaseUrl, now: deps.now });

  // Everything registered in this scope needs a valid bearer token.
  await app.register(async (user) => {
    withAuth(user, deps.verifier);
    await user.register(vehicleRoutes, { vehicles });
    const documents = createDocumentService({
      db: database.db,
      store: deps.blobStore,
      vehicles,
      publicBaseUrl: config.publicBaseUrl,
      maxBytes: config.documents.maxBytes,
      quotaBytes: config.documents.quotaBytes,
      downloadRedirect: config.documents.downloadRedirect,
      log: app.log,
      now: deps.now,
    });
    await user.register(documentRoutes, { documents, maxBytes: config.documents.maxBytes });
    const errorCodes = createErrorCodeService({
      db: database.db,
      vehicles,
      catalog: createDtcCatalog(),
      enrichment: deps.dtcEnricher && { enricher: deps.dtcEnricher, timeoutMs: config.dtc.enrichTimeoutMs, logger: deps.logger },
    });
    await user.register(errorCodeRoutes, { errorCodes });
    await user.register(webhookRoutes, {
      webhooks: createWebhookService({ db: database.db, policy: config.webhooks, maxPerUser: config.webhooks.maxPerUser, now: deps.now }),
    });
    await user.register(eventRoutes, { database, maxStreamsPerUser: config.events.streamsPerUser });
    await user.register(transactionRoutes, { transactions: createTransactionService({ db: database.db }) });
    if (deps.chain) {
      const mint = createVehicleMintService({
        db: database.db,
        chain: deps.chain,
        vehicles,
        makeNodes: createMakeNodes(deps.chain, database.db),
        onEnqueued: deps.onTransactionQueued,
      });
      await user.register(vehicleMintRoutes, { mint });
      await user.register(pairingRoutes, { pairing: createPairingService({ db: database.db, chain: deps.chain, vehicles, onEnqueued: deps.onTransactionQueued }) });
      await user.register(sharingRoutes, {
        sharing: createSharingService({ db: database.db, chain: deps.chain, vehicles, maxDays: config.sharing.maxDays, now: deps.now, onEnqueued: deps.onTransactionQueued }),
      });
      const wallets = createSyntheticWallets(config.chain.syntheticWalletMnemonic);
      await user.register(syntheticDeviceRoutes, {
        synthetic: createSyntheticDeviceService({ db: database.db, chain: deps.chain, wallets, vehicles, onEnqueued: deps.onTransactionQueued }),
      });
    }
    await user.register(aftermarketDeviceRoutes, {
      devices: createAftermarketDeviceService({ db: database.db }),
      claim: deps.chain && createClaimService({ db: database.db, chain: deps.chain, onEnqueued: deps.onTransactionQueued }),
      // Development only (API.md §2): the route does not exist in production mode.
      unclaimRoute: config.mode !== 'production',
    });
    await user.register(firmwareRoutes, {
      firmware: createFirmwareUpdateService({ db: database.db, connectors: firmwareConnectors, now: deps.now, log: app.log }),
    });
  });

  return app;
}
