// Typed configuration from the environment, in one place. Each component is chosen by its own
// setting (DATABASE_URL → PostgreSQL, S3_BUCKET → S3, CHAIN_RPC_URL → that chain); production mode
// only adds that those settings must be present and that dev tokens are refused.
import path from 'node:path';
import { readChainConfig, type ChainConfig } from './chain/config.ts';
import { parseFirmwareConnectors, type FirmwareConnectorConfig } from './firmware/config.ts';
import { parseTrustProxy, type TrustProxy } from './domain/trust-proxy.ts';
import { DEFAULT_RETRY_SCHEDULE_MS, parseRetrySchedule } from './domain/retry-schedule.ts';

export type Mode = 'embedded' | 'production';

export interface JwtConfig {
  jwksUrl: string | undefined;
  issuer: string | undefined;
  audience: string | undefined;
  /** JWT_MAX_LIFETIME: the longest exp − iat a dev token may have (the CLI refuses longer too). */
  maxLifetimeSeconds: number;
}

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  publicBaseUrl: string;
  databaseUrl: string | undefined;
  jwt: JwtConfig;
  logLevel: string;
  prettyLogs: boolean;
  bodyLimitBytes: number;
  /** Whose X-Forwarded-For names the client (TRUST_PROXY); false: the socket's address is the client. */
  trustProxy: TrustProxy;
  /** Slow clients: headers and bodies must arrive within requestTimeoutMs (uploads: no pause longer); open connections per address (0: unbounded). */
  clients: { requestTimeoutMs: number; maxConnectionsPerIp: number };
  rateLimit: { max: number; windowMs: number };
  /** Rate-limit counters shared by replicas in this Redis; unset: counted per process. */
  redisUrl: string | undefined;
  /** Repeat authenticated GETs served from memory (src/http/plugins/response-cache.ts); maxBytes 0 = off. */
  responseCache: { maxBytes: number; ttlMs: number };
  corsOrigins: string[] | '*';
  documents: { maxBytes: number; quotaBytes: number; downloadRedirect: boolean; reconcileIntervalMs: number };
  s3: { bucket: string | undefined; region: string | undefined; endpoint: string | undefined };
  dtc: { enrichUrl: string | undefined; enrichKey: string | undefined; enrichModel: string; enrichTimeoutMs: number };
  /**
   * FIRMWARE_CONNECTORS, parsed: connectors keyed by `connectorKey(manufacturer)`. Problems stop a
   * production start (loadConfig fails); elsewhere they are logged and firmware updates answer 501.
   */
  firmware: { connectors: ReadonlyMap<string, FirmwareConnectorConfig>; problems: string[] };
  /** Migrate the database when the service opens it: always in embedded mode, in production only with MIGRATE_ON_START=true. */
  migrateOnStart: boolean;
  /** Directory of per-manufacturer NFT images (`autopi.png`, …); generated images otherwise. */
  manufacturerImageDir: string | undefined;
  shutdownTimeoutMs: number;
  /** /ready fails when the indexer lags more (READY_MAX_INDEXER_LAG, s) or a relayed request waits longer (READY_MAX_RELAY_AGE, s). */
  ready: { maxIndexerLagMs: number; maxRelayAgeMs: number };
  /** The event outbox: how long events are kept (EVENT_RETENTION_HOURS, ≥ 24) and open streams per user (EVENTS_STREAMS_PER_USER). */
  events: { retentionMs: number; streamsPerUser: number };
  /** How far ahead a share may expire (SHARE_MAX_DAYS). */
  sharing: { maxDays: number };
  /** Embedded anvil, or an existing registry on CHAIN_RPC_URL (src/chain/config.ts). */
  chain: ChainConfig;
  webhooks: WebhookConfig;
  /** OpenTelemetry traces over OTLP/HTTP; off (tracesUrl undefined) unless OTEL_EXPORTER_OTLP_ENDPOINT or …_TRACES_ENDPOINT is set. */
  telemetry: TelemetryConfig;
}

export interface TelemetryConfig {
  tracesUrl: string | undefined;
  headers: Record<string, string>;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER_ARG: the fraction of new traces kept (parent-based: a caller's decision wins). */
  sampleRatio: number;
}

export interface WebhookConfig {
  /** http:// endpoints accepted (WEBHOOK_ALLOW_HTTP; default only in embedded mode). */
  allowHttp: boolean;
  /** Endpoints on loopback, private, link-local, CGNAT or metadata addresses accepted (WEBHOOK_ALLOW_PRIVATE_NETWORKS; default only in embedded mode). */
  allowPrivateNetworks: boolean;
  /** Subscriptions one user may have (WEBHOOK_MAX_PER_USER). */
  maxPerUser: number;
  /** Pauses before each retry, ms (WEBHOOK_RETRY_SCHEDULE). */
  retrySchedule: number[];
  /** A subscription failing this long is disabled (WEBHOOK_DISABLE_AFTER). */
  disableAfterMs: number;
  /** The delivery worker's poll for due retries (WEBHOOK_POLL_MS); new events wake it at once. */
  pollIntervalMs: number;
}

export type Env = Record<string, string | undefined>;

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

export function isProductionEnv(env: Env): boolean {
  return env.DEVICES_API_MODE === 'production' || (env.DEVICES_API_MODE === undefined && env.NODE_ENV === 'production');
}

/** Reads the whole configuration, collecting every problem instead of stopping at the first. */
export function loadConfig(env: Env, cwd = process.cwd()): ConfigResult {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const modeRaw = env.DEVICES_API_MODE;
  if (modeRaw !== undefined && modeRaw !== 'production' && modeRaw !== 'embedded') {
    problems.push(`DEVICES_API_MODE must be "embedded" or "production", got "${modeRaw}"`);
  }
  const mode: Mode = isProductionEnv(env) ? 'production' : 'embedded';
  const prod = mode === 'production';

  const port = read.int('PORT', 8080, 0, 65535);
  const host = env.HOST ?? (prod ? '0.0.0.0' : '127.0.0.1');
  const dataDir = path.resolve(cwd, env.DATA_DIR ?? './data');

  const databaseUrl = read.url('DATABASE_URL', prod, ['postgres:', 'postgresql:']);
  const jwksUrl = read.url('JWT_JWKS_URL', prod, ['http:', 'https:']);
  const issuer = read.string('JWT_ISSUER', prod);
  const audience = read.string('JWT_AUDIENCE', prod);
  const publicBaseUrl = read.url('PUBLIC_BASE_URL', prod, ['http:', 'https:']) ?? `http://localhost:${port || 8080}`;

  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (!trustProxy.ok) problems.push(trustProxy.problem);

  const corsRaw = env.CORS_ORIGINS?.trim();
  const corsOrigins: string[] | '*' = !corsRaw || corsRaw === '*' ? '*' : corsRaw.split(',').map((s) => s.trim()).filter(Boolean);

  const config: Config = {
    mode,
    host,
    port,
    dataDir,
    publicBaseUrl: publicBaseUrl.replace(/\/+$/, ''),
    databaseUrl,
    jwt: { jwksUrl, issuer, audience, maxLifetimeSeconds: read.duration('JWT_MAX_LIFETIME', 24 * 3600) },
    logLevel: env.LOG_LEVEL ?? 'info',
    prettyLogs: !prod && env.LOG_FORMAT !== 'json' && process.stdout.isTTY === true,
    bodyLimitBytes: read.int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    trustProxy: trustProxy.ok ? trustProxy.value : false,
    ...trafficConfig(read),
    corsOrigins,
    documents: documentsConfig(read),
    s3: { bucket: env.S3_BUCKET || undefined, region: env.S3_REGION || undefined, endpoint: read.url('S3_ENDPOINT', false, ['http:', 'https:']) },
    dtc: dtcConfig(env, read),
    firmware: firmwareOf(parseFirmwareConnectors(env.FIRMWARE_CONNECTORS || undefined)),
    migrateOnStart: !prod || env.MIGRATE_ON_START === 'true',
    manufacturerImageDir: env.MANUFACTURER_IMAGE_DIR ? path.resolve(cwd, env.MANUFACTURER_IMAGE_DIR) : undefined,
    shutdownTimeoutMs: read.int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    ...operationsConfig(read),
    chain: readChainConfig(env, prod, problems),
    webhooks: webhooksConfig(env, read, prod, problems),
    telemetry: readTelemetry(env, read, problems),
  };
  // A broken FIRMWARE_CONNECTORS stops a production server (elsewhere createServices warns and answers 501).
  if (prod) problems.push(...config.firmware.problems);
  if (prod && config.s3.bucket === undefined && env.ALLOW_LOCAL_BLOBS !== 'true') {
    problems.push('S3_BUCKET is required in production mode (or set ALLOW_LOCAL_BLOBS=true to keep blobs in DATA_DIR)');
  }
  return problems.length ? { ok: false, problems } : { ok: true, config };
}

// The sections below are read in the order the fields appear in Config, so problems are reported in that order.

function trafficConfig(read: Reader): Pick<Config, 'clients' | 'rateLimit' | 'redisUrl' | 'responseCache'> {
  return {
    clients: {
      requestTimeoutMs: read.int('REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
      maxConnectionsPerIp: read.int('MAX_CONNECTIONS_PER_IP', 256, 0, 1_000_000),
    },
    rateLimit: {
      max: read.int('RATE_LIMIT_MAX', 600, 1, Number.MAX_SAFE_INTEGER),
      windowMs: read.int('RATE_LIMIT_WINDOW_MS', 60_000, 1000, 3_600_000),
    },
    redisUrl: read.url('REDIS_URL', false, ['redis:', 'rediss:']),
    responseCache: {
      maxBytes: read.int('RESPONSE_CACHE_MAX_BYTES', 32 * 1024 * 1024, 0, Number.MAX_SAFE_INTEGER),
      ttlMs: read.int('RESPONSE_CACHE_TTL_MS', 10_000, 1, 3_600_000),
    },
  };
}

function documentsConfig(read: Reader): Config['documents'] {
  return {
    maxBytes: read.int('DOCUMENT_MAX_BYTES', 10 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    quotaBytes: read.int('DOCUMENT_QUOTA_BYTES', 1024 * 1024 * 1024, 1, Number.MAX_SAFE_INTEGER),
    downloadRedirect: read.bool('DOCUMENT_DOWNLOAD_REDIRECT', false),
    reconcileIntervalMs: read.int('DOCUMENT_RECONCILE_INTERVAL_MS', 3_600_000, 1000, Number.MAX_SAFE_INTEGER),
  };
}

function dtcConfig(env: Env, read: Reader): Config['dtc'] {
  return {
    enrichUrl: read.url('DTC_ENRICH_URL', false, ['http:', 'https:']),
    enrichKey: env.DTC_ENRICH_KEY || undefined,
    enrichModel: env.DTC_ENRICH_MODEL ?? 'gpt-4o-mini',
    enrichTimeoutMs: read.int('DTC_ENRICH_TIMEOUT_MS', 1500, 10, 60_000),
  };
}

function operationsConfig(read: Reader): Pick<Config, 'ready' | 'events' | 'sharing'> {
  return {
    ready: {
      maxIndexerLagMs: read.int('READY_MAX_INDEXER_LAG', 30, 1, 86_400) * 1000,
      maxRelayAgeMs: read.int('READY_MAX_RELAY_AGE', 300, 1, 86_400) * 1000,
    },
    events: {
      retentionMs: read.int('EVENT_RETENTION_HOURS', 168, 24, 87_600) * 3_600_000,
      streamsPerUser: read.int('EVENTS_STREAMS_PER_USER', 5, 1, 1000),
    },
    sharing: { maxDays: read.int('SHARE_MAX_DAYS', 365, 1, 36_500) },
  };
}

function webhooksConfig(env: Env, read: Reader, prod: boolean, problems: string[]): WebhookConfig {
  return {
    allowHttp: read.bool('WEBHOOK_ALLOW_HTTP', !prod),
    allowPrivateNetworks: read.bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', !prod),
    maxPerUser: read.int('WEBHOOK_MAX_PER_USER', 20, 1, 1000),
    retrySchedule: retrySchedule(env.WEBHOOK_RETRY_SCHEDULE, problems),
    disableAfterMs: read.duration('WEBHOOK_DISABLE_AFTER', 3 * 86_400) * 1000,
    pollIntervalMs: read.int('WEBHOOK_POLL_MS', 1000, 10, 60_000),
  };
}

/** The standard OTel variables: the signal-specific URL is used as given, the base one gets /v1/traces. */
function readTelemetry(env: Env, read: Reader, problems: string[]): TelemetryConfig {
  const base = read.url('OTEL_EXPORTER_OTLP_ENDPOINT', false, ['http:', 'https:']);
  const traces = read.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', false, ['http:', 'https:']);
  const ratioRaw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = ratioRaw ? Number(ratioRaw) : 1;
  if (!(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1, got "${ratioRaw}"`);
  return {
    tracesUrl: traces ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined),
    headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'devices-api',
    sampleRatio: ratio >= 0 && ratio <= 1 ? ratio : 1,
  };
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray % is taken literally
  }
}

/** OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, percent-encoded (the OTel format). */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[decoded(part.slice(0, i).trim())] = decoded(part.slice(i + 1).trim());
  }
  return out;
}

function firmwareOf(r: ReturnType<typeof parseFirmwareConnectors>): Config['firmware'] {
  return r.ok ? { connectors: r.connectors, problems: [] } : { connectors: new Map(), problems: r.problems };
}

function retrySchedule(raw: string | undefined, problems: string[]): number[] {
  if (!raw?.trim()) return [...DEFAULT_RETRY_SCHEDULE_MS];
  const parsed = parseRetrySchedule(raw);
  if (parsed.ok) return parsed.value;
  problems.push(`WEBHOOK_RETRY_SCHEDULE must be comma-separated delays like 5s,1m,2h: ${parsed.message}`);
  return [...DEFAULT_RETRY_SCHEDULE_MS];
}

class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  string(name: string, required: boolean): string | undefined {
    const v = this.env[name]?.trim();
    if (!v) {
      if (required) this.problems.push(`${name} is required in production mode`);
      return undefined;
    }
    return v;
  }

  url(name: string, required: boolean, protocols: string[]): string | undefined {
    const v = this.string(name, required);
    if (v === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.problems.push(`${name} is not a valid URL`);
      return undefined;
    }
    if (!protocols.includes(u.protocol)) {
      this.problems.push(`${name} must use ${protocols.join(' or ')}, got ${u.protocol}`);
      return undefined;
    }
    return v;
  }

  int(name: string, dflt: number, min: number, max: number): number {
    const v = this.env[name]?.trim();
    if (!v) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${v}"`);
      return dflt;
    }
    return Number(v);
  }

  /** Seconds, from `90`, `90s`, `30m`, `24h` or `7d`. */
  duration(name: string, dfltSeconds: number): number {
    const v = this.env[name]?.trim();
    if (!v) return dfltSeconds;
    const m = /^(\d+)\s*([smhd]?)$/.exec(v);
    const seconds = m ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] : 0;
    if (seconds < 1 || !Number.isSafeInteger(seconds)) {
      this.problems.push(`${name} must be a duration like 3600, 30m, 24h or 7d, got "${v}"`);
      return dfltSeconds;
    }
    return seconds;
  }

  bool(name: string, dflt: boolean): boolean {
    const v = this.env[name]?.trim().toLowerCase();
    if (!v) return dflt;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    this.problems.push(`${name} must be true or false, got "${v}"`);
    return dflt;
  }
}
