// The composition root: every service built from the configuration and the opened resources, in
// one place, for the HTTP app (buildApp), the CLI and the tests alike. A service is built on first
// use, from only what it needs: the CLI asks for the document reconciler without loading the
// vehicle catalog, the app asks for all of them while it registers its routes.
import type { Config } from './config.ts';
import type { Database } from './db/engine.ts';
import type { DefinitionCatalog } from './definitions/catalog.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { blobDirOf } from './storage/factory.ts';
import { sweepFsTempFiles } from './storage/fs-blob-store.ts';
import type { DtcEnricher } from './dtc/enrichment.ts';
import type { ChainContext } from './chain/context.ts';
import type { MetaTxRow } from './db/repositories/transaction-requests.ts';
import { createMakeNodes } from './chain/manufacturers.ts';
import { createSyntheticWallets } from './chain/synthetic-wallet.ts';
import { createDtcCatalog } from './domain/dtc/index.ts';
import { silentLogger, type Logger } from './lib/logger.ts';
import { lazily } from './lib/lazy.ts';
import { createVehicleService, type VehicleService } from './services/vehicles.ts';
import { createDocumentService, type DocumentService } from './services/documents.ts';
import { createErrorCodeService, type ErrorCodeService } from './services/error-codes.ts';
import { createTransactionService, type TransactionService } from './services/transactions.ts';
import { createPublicMetadataService, type PublicMetadataService } from './services/public-metadata.ts';
import { createAftermarketDeviceService, type AftermarketDeviceService } from './services/aftermarket-devices.ts';
import { createFirmwareUpdateService, type FirmwareUpdateService } from './services/firmware-updates.ts';
import { createClaimService, type ClaimService } from './services/claim.ts';
import { createVehicleMintService, type VehicleMintService } from './services/vehicle-mint.ts';
import { createPairingService, type PairingService } from './services/pairing.ts';
import { createSharingService, type SharingService } from './services/sharing.ts';
import { createSyntheticDeviceService, type SyntheticDeviceService } from './services/synthetic-devices.ts';
import type { ReconcileDeps } from './services/document-reconciler.ts';
import { createWebhookService, type WebhookService } from './services/webhooks.ts';
import type { Registry } from 'prom-client';
import { createDtcLookupCounter } from './metrics/app-metrics.ts';

export interface ServiceDeps {
  database: Database;
  /** Vehicle definitions (VIN decoding); needed by the vehicle services. */
  catalog?: DefinitionCatalog;
  /** Document bytes (fs under DATA_DIR, or S3); needed by the document services. */
  blobStore?: BlobStore;
  /** Omit for silence (tests, one-shot commands). */
  logger?: Logger;
  now?: () => Date;
  /** Longer DTC explanations (DTC_ENRICH_URL); omit to answer from the bundled table only. */
  dtcEnricher?: DtcEnricher;
  /** The registry chain; without it the chain services do not exist. */
  chain?: ChainContext;
  /** Called after a relayed call's request is committed: wakes the in-process relayer instead of leaving it to its poll. */
  onTransactionQueued?: (request: MetaTxRow) => void;
  /** The registry /metrics serves: the services count into it (dtc_lookups_total); omit to count nothing. */
  metrics?: Registry;
}

/** The services that relay commands through the registry: only with a chain. */
export interface ChainServices {
  readonly claim: ClaimService;
  readonly mint: VehicleMintService;
  readonly pairing: PairingService;
  readonly sharing: SharingService;
  readonly synthetic: SyntheticDeviceService;
}

export interface Services {
  readonly vehicles: VehicleService;
  readonly documents: DocumentService;
  readonly errorCodes: ErrorCodeService;
  readonly transactions: TransactionService;
  readonly publicMetadata: PublicMetadataService;
  readonly aftermarketDevices: AftermarketDeviceService;
  readonly firmware: FirmwareUpdateService;
  readonly webhooks: WebhookService;
  /** Undefined without a chain. */
  readonly chain: ChainServices | undefined;
  /** What the document reconciler works on, for the CLI and the periodic in-process run alike. */
  readonly documentReconcile: ReconcileDeps;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`createServices: this service needs deps.${what}`);
  return value;
}

export function createServices(config: Config, deps: ServiceDeps): Services {
  const { db } = deps.database;
  const { now, dtcEnricher } = deps;
  const logger = deps.logger ?? silentLogger();
  const services: Services = lazily<Services>({
    vehicles: () => createVehicleService({ db, catalog: required(deps.catalog, 'catalog'), publicBaseUrl: config.publicBaseUrl, now }),
    documents: () =>
      createDocumentService({
        db,
        store: required(deps.blobStore, 'blobStore'),
        vehicles: services.vehicles,
        publicBaseUrl: config.publicBaseUrl,
        maxBytes: config.documents.maxBytes,
        quotaBytes: config.documents.quotaBytes,
        downloadRedirect: config.documents.downloadRedirect,
        log: logger,
        now,
      }),
    errorCodes: () =>
      createErrorCodeService({
        db,
        vehicles: services.vehicles,
        catalog: createDtcCatalog(),
        enrichment: dtcEnricher && { enricher: dtcEnricher, timeoutMs: config.dtc.enrichTimeoutMs, logger },
        countLookup: deps.metrics && createDtcLookupCounter(deps.metrics),
      }),
    transactions: () => createTransactionService({ db }),
    publicMetadata: () => createPublicMetadataService({ db, publicBaseUrl: config.publicBaseUrl, manufacturerImageDir: config.manufacturerImageDir }),
    aftermarketDevices: () => createAftermarketDeviceService({ db }),
    firmware: () => {
      // A broken FIRMWARE_CONNECTORS fails loadConfig in production; elsewhere firmware updates answer 501 until it is fixed.
      if (config.firmware.problems.length) logger.warn(`FIRMWARE_CONNECTORS: ${config.firmware.problems.join('; ')}`);
      return createFirmwareUpdateService({ db, connectors: config.firmware.connectors, now, log: logger });
    },
    webhooks: () => createWebhookService({ db, policy: config.webhooks, maxPerUser: config.webhooks.maxPerUser, now }),
    chain: () => deps.chain && chainServices(config, deps.chain, deps, () => services.vehicles),
    documentReconcile: () => {
      const store = required(deps.blobStore, 'blobStore');
      return {
        db,
        store,
        // Only the fs driver leaves temp files behind; S3 aborts failed multipart uploads itself.
        ...(store.driver === 'fs' ? { sweepTempFiles: (olderThan: Date) => sweepFsTempFiles(blobDirOf(config.dataDir), olderThan) } : {}),
      };
    },
  });
  return services;
}

function chainServices(config: Config, chain: ChainContext, deps: ServiceDeps, vehicles: () => VehicleService): ChainServices {
  const { db } = deps.database;
  const { now, onTransactionQueued: onEnqueued } = deps;
  return lazily<ChainServices>({
    claim: () => createClaimService({ db, chain, onEnqueued }),
    mint: () => createVehicleMintService({ db, chain, vehicles: vehicles(), makeNodes: createMakeNodes(chain, db), onEnqueued }),
    pairing: () => createPairingService({ db, chain, vehicles: vehicles(), onEnqueued }),
    sharing: () => createSharingService({ db, chain, vehicles: vehicles(), maxDays: config.sharing.maxDays, now, onEnqueued }),
    synthetic: () => createSyntheticDeviceService({ db, chain, wallets: createSyntheticWallets(config.chain.syntheticWalletMnemonic), vehicles: vehicles(), onEnqueued }),
  });
}
