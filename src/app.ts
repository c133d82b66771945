// Builds the Fastify app from explicit dependencies; no globals, so tests build as many as they like.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from './config.ts';
import type { TrustProxy } from './domain/trust-proxy.ts';
import type { DefinitionCatalog } from './definitions/catalog.ts';
import type { AuthUser, TokenVerifier } from './auth/verifier.ts';
import { ErrorBody } from './http/errors.ts';
import { errorsPlugin, frameworkErrorHandler, clientErrorHandlerWith } from './http/plugins/errors.ts';
import { securityPlugin } from './http/plugins/security.ts';
import { routeOptionsPlugin } from './http/plugins/route-options.ts';
import { docsPlugin, DOCS_PREFIX } from './http/plugins/docs.ts';
import { withAuth } from './http/plugins/auth.ts';
import { bodyAsSentValidators } from './http/validator-compiler.ts';
import { addressMatcher, createSlowClientGuard } from './http/slow-clients.ts';
import { healthRoutes, type ReadinessCheck } from './http/routes/health.ts';
import { vehicleRoutes } from './http/routes/vehicles.ts';
import { documentRoutes } from './http/routes/documents.ts';
import type { BlobStore } from './storage/blob-store.ts';
import type { SharedRateCounter } from './storage/redis-rate-counter.ts';
import { errorCodeRoutes } from './http/routes/error-codes.ts';
import { vehicleMintRoutes } from './http/routes/vehicle-mint.ts';
import { transactionRoutes } from './http/routes/transactions.ts';
import { eventRoutes } from './http/routes/events.ts';
import { publicMetadataRoutes } from './http/routes/public-metadata.ts';
import { aftermarketDeviceRoutes } from './http/routes/aftermarket-devices.ts';
import { firmwareRoutes } from './http/routes/firmware.ts';
import { pairingRoutes } from './http/routes/pairing.ts';
import { syntheticDeviceRoutes } from './http/routes/synthetic-devices.ts';
import { privilegeRoutes } from './http/routes/privileges.ts';
import { sharingRoutes } from './http/routes/sharing.ts';
import { createServices, type ServiceDeps, type Services } from './composition.ts';
import { webhookRoutes } from './http/routes/webhooks.ts';

export interface AppDeps extends ServiceDeps {
  config: Config;
  catalog: DefinitionCatalog;
  verifier: TokenVerifier;
  /** Document bytes (fs under DATA_DIR, or S3). */
  blobStore: BlobStore;
  /** Extra readiness checks (blob store, chain) beside the database. */
  readiness?: Record<string, ReadinessCheck>;
  /** A pino logger; omit for silence (tests). */
  logger?: FastifyBaseLogger;
  /** Rate-limit counters shared by replicas (Redis, REDIS_URL); omit to count in this process. */
  sharedRateCounter?: SharedRateCounter;
  /** The services the routes call; default `createServices(config, deps)`. */
  services?: Services;
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
  await app.register(securityPlugin, { hsts: config.mode === 'production', docsPrefix: DOCS_PREFIX });
  await app.register(routeOptionsPlugin, {
    cors: {
      origins: config.corsOrigins,
      exposedHeaders: ['x-request-id', 'etag', 'content-disposition', 'content-range', 'accept-ranges', 'x-next-cursor', 'link', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      // @fastify/cors allows only GET,HEAD,POST by default; browsers must be able to DELETE/PUT/PATCH.
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      maxAgeSeconds: 600,
    },
    rateLimit: { ...config.rateLimit, shared: deps.sharedRateCounter },
    responseCache: { database, ...config.responseCache },
  });
  slowClients.install(app);
  await app.register(docsPlugin, { publicBaseUrl: config.publicBaseUrl, version: '0.1.0' });
  await registerRoutes(app, deps, deps.services ?? createServices(config, { ...deps, logger: app.log }));
  return app;
}

async function registerRoutes(app: FastifyInstance, deps: AppDeps, services: Services): Promise<void> {
  const { config, database } = deps;
  await app.register(healthRoutes, { checks: { database: () => database.ping(), ...deps.readiness } });
  await app.register(privilegeRoutes);
  await app.register(publicMetadataRoutes, { metadata: services.publicMetadata });
  // Everything registered in this scope needs a valid bearer token.
  await app.register(async (user) => {
    withAuth(user, deps.verifier);
    await user.register(vehicleRoutes, { vehicles: services.vehicles });
    await user.register(documentRoutes, { documents: services.documents, maxBytes: config.documents.maxBytes });
    await user.register(errorCodeRoutes, { errorCodes: services.errorCodes });
    await user.register(webhookRoutes, { webhooks: services.webhooks });
    await user.register(eventRoutes, { database: deps.database, maxStreamsPerUser: config.events.streamsPerUser });
    await user.register(transactionRoutes, { transactions: services.transactions });
    const chain = services.chain;
    if (chain) {
      await user.register(vehicleMintRoutes, { mint: chain.mint });
      await user.register(pairingRoutes, { pairing: chain.pairing });
      await user.register(sharingRoutes, { sharing: chain.sharing });
      await user.register(syntheticDeviceRoutes, { synthetic: chain.synthetic });
    }
    await user.register(aftermarketDeviceRoutes, {
      devices: services.aftermarketDevices,
      claim: chain?.claim,
      // Development only (API.md §2): the route does not exist in production mode.
      unclaimRoute: config.mode !== 'production',
    });
    await user.register(firmwareRoutes, { firmware: services.firmware });
  });
}
