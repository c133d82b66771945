import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { isProductionEnv, loadConfig, type Config, type Env } from '../src/config.ts';
import { PRODUCTION_ENV } from './helpers/production-env.ts';

const CWD = '/srv/devices-api';

function ok(env: Env): Config {
  const r = loadConfig(env, CWD);
  if (!r.ok) throw new Error(`expected a valid config, got: ${r.problems.join('; ')}`);
  return r.config;
}

function problems(env: Env): string[] {
  const r = loadConfig(env, CWD);
  return r.ok ? [] : r.problems;
}

describe('loadConfig', () => {
  describe('accepted settings', () => {
    const cases: { name: string; env: Env; expect: (c: Config) => void }[] = [
      {
        name: 'an empty environment is embedded mode with local defaults',
        env: {},
        expect: (c) => {
          assert.equal(c.mode, 'embedded');
          assert.equal(c.port, 8080);
          assert.equal(c.host, '127.0.0.1');
          assert.equal(c.dataDir, path.resolve(CWD, 'data'));
          assert.equal(c.publicBaseUrl, 'http://localhost:8080');
          assert.equal(c.databaseUrl, undefined);
          assert.deepEqual(c.jwt, { jwksUrl: undefined, issuer: undefined, audience: undefined, maxLifetimeSeconds: 86400 });
          assert.equal(c.corsOrigins, '*');
          assert.equal(c.s3.bucket, undefined);
        },
      },
      { name: 'PORT=0 asks the kernel for a port', env: { PORT: '0' }, expect: (c) => assert.equal(c.port, 0) },
      { name: 'PORT sets the default public URL', env: { PORT: '9000' }, expect: (c) => assert.equal(c.publicBaseUrl, 'http://localhost:9000') },
      { name: 'a relative DATA_DIR resolves against the working directory', env: { DATA_DIR: 'var/x' }, expect: (c) => assert.equal(c.dataDir, '/srv/devices-api/var/x') },
      { name: 'an absolute DATA_DIR is kept', env: { DATA_DIR: '/var/lib/devices' }, expect: (c) => assert.equal(c.dataDir, '/var/lib/devices') },
      { name: 'HOST overrides the loopback default', env: { HOST: '0.0.0.0' }, expect: (c) => assert.equal(c.host, '0.0.0.0') },
      {
        name: 'PUBLIC_BASE_URL loses trailing slashes',
        env: { PUBLIC_BASE_URL: 'https://api.example.com//' },
        expect: (c) => assert.equal(c.publicBaseUrl, 'https://api.example.com'),
      },
      {
        name: 'DATABASE_URL alone picks PostgreSQL and stays in embedded mode',
        env: { DATABASE_URL: 'postgresql://u@h:5432/d' },
        expect: (c) => {
          assert.equal(c.databaseUrl, 'postgresql://u@h:5432/d');
          assert.equal(c.mode, 'embedded');
        },
      },
      {
        name: 'CORS_ORIGINS is a trimmed comma-separated list',
        env: { CORS_ORIGINS: ' https://a.example , https://b.example,, ' },
        expect: (c) => assert.deepEqual(c.corsOrigins, ['https://a.example', 'https://b.example']),
      },
      { name: 'CORS_ORIGINS=* allows any origin', env: { CORS_ORIGINS: '*' }, expect: (c) => assert.equal(c.corsOrigins, '*') },
      {
        name: 'booleans accept true/false/1/0 in any case',
        env: { DOCUMENT_DOWNLOAD_REDIRECT: 'TRUE' },
        expect: (c) => assert.equal(c.documents.downloadRedirect, true),
      },
      { name: 'booleans accept 0', env: { DOCUMENT_DOWNLOAD_REDIRECT: '0' }, expect: (c) => assert.equal(c.documents.downloadRedirect, false) },
      {
        name: 'integers within bounds are read',
        env: { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '1000', BODY_LIMIT_BYTES: '2048', SHUTDOWN_TIMEOUT_MS: '500' },
        expect: (c) => {
          assert.deepEqual(c.rateLimit, { max: 5, windowMs: 1000 });
          assert.equal(c.bodyLimitBytes, 2048);
          assert.equal(c.shutdownTimeoutMs, 500);
        },
      },
      { name: 'an empty variable means unset', env: { PORT: '', S3_BUCKET: '' }, expect: (c) => (assert.equal(c.port, 8080), assert.equal(c.s3.bucket, undefined)) },
      { name: 'TRUST_PROXY is unset: nobody is trusted, in production too', env: PRODUCTION_ENV, expect: (c) => assert.equal(c.trustProxy, false) },
      { name: 'TRUST_PROXY as a hop count', env: { TRUST_PROXY: '2' }, expect: (c) => assert.equal(c.trustProxy, 2) },
      {
        name: 'TRUST_PROXY as a list of addresses and CIDRs',
        env: { TRUST_PROXY: ' 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::1' },
        expect: (c) => assert.deepEqual(c.trustProxy, ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']),
      },
      {
        name: 'slow-client bounds default to 30 s and 256 connections per address',
        env: {},
        expect: (c) => assert.deepEqual(c.clients, { requestTimeoutMs: 30_000, maxConnectionsPerIp: 256 }),
      },
      {
        name: 'REQUEST_TIMEOUT_MS and MAX_CONNECTIONS_PER_IP are read (0 connections: unbounded)',
        env: { REQUEST_TIMEOUT_MS: '5000', MAX_CONNECTIONS_PER_IP: '0' },
        expect: (c) => assert.deepEqual(c.clients, { requestTimeoutMs: 5000, maxConnectionsPerIp: 0 }),
      },
      { name: 'REDIS_URL unset: rate limits are counted per process', env: {}, expect: (c) => assert.equal(c.redisUrl, undefined) },
      { name: 'REDIS_URL takes redis: and rediss: URLs', env: { REDIS_URL: 'rediss://u:p@cache:6380/2' }, expect: (c) => assert.equal(c.redisUrl, 'rediss://u:p@cache:6380/2') },
      {
        name: 'DEVICES_API_MODE=embedded wins over NODE_ENV=production',
        env: { NODE_ENV: 'production', DEVICES_API_MODE: 'embedded' },
        expect: (c) => assert.equal(c.mode, 'embedded'),
      },
      {
        name: 'a complete production environment is production mode listening on all interfaces',
        env: PRODUCTION_ENV,
        expect: (c) => {
          assert.equal(c.mode, 'production');
          assert.equal(c.host, '0.0.0.0');
          assert.equal(c.databaseUrl, PRODUCTION_ENV.DATABASE_URL);
          assert.deepEqual(c.jwt, { jwksUrl: PRODUCTION_ENV.JWT_JWKS_URL, issuer: PRODUCTION_ENV.JWT_ISSUER, audience: PRODUCTION_ENV.JWT_AUDIENCE, maxLifetimeSeconds: 86400 });
          assert.equal(c.prettyLogs, false);
        },
      },
      {
        name: 'DEVICES_API_MODE=production is production mode like NODE_ENV=production',
        env: { ...PRODUCTION_ENV, NODE_ENV: undefined, DEVICES_API_MODE: 'production' },
        expect: (c) => assert.equal(c.mode, 'production'),
      },
      {
        name: 'production may keep blobs locally with ALLOW_LOCAL_BLOBS=true',
        env: { ...PRODUCTION_ENV, S3_BUCKET: undefined, ALLOW_LOCAL_BLOBS: 'true' },
        expect: (c) => assert.equal(c.s3.bucket, undefined),
      },
      {
        name: 'JWT_MAX_LIFETIME in seconds or with a unit',
        env: { JWT_MAX_LIFETIME: '7d' },
        expect: (c) => assert.equal(c.jwt.maxLifetimeSeconds, 7 * 86400),
      },
    ];
    for (const c of cases) it(c.name, () => c.expect(ok(c.env)));
  });

  describe('OpenTelemetry (OTEL_*)', () => {
    it('is off without an OTLP endpoint', () => {
      assert.equal(ok({}).telemetry.tracesUrl, undefined);
    });
    it('sends traces to the endpoint plus /v1/traces, or to the traces endpoint as given', () => {
      assert.equal(ok({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).telemetry.tracesUrl, 'http://collector:4318/v1/traces');
      assert.equal(ok({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/otlp/traces' }).telemetry.tracesUrl, 'https://b/otlp/traces');
    });
    it('reads the service name, the sample ratio and percent-encoded headers', () => {
      const t = ok({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'api-eu', OTEL_TRACES_SAMPLER_ARG: '0.25', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b, x-tenant=t1,broken' }).telemetry;
      assert.deepEqual(t, { tracesUrl: 'http://c:4318/v1/traces', serviceName: 'api-eu', sampleRatio: 0.25, headers: { 'api-key': 'a b', 'x-tenant': 't1' } });
      assert.equal(ok({}).telemetry.serviceName, 'devices-api');
    });
    it('refuses a ratio outside 0–1 and an endpoint that is not http(s)', () => {
      assert.match(problems({ OTEL_TRACES_SAMPLER_ARG: '2' }).join(), /OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1/);
      assert.match(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://c:4317' }).join(), /OTEL_EXPORTER_OTLP_ENDPOINT must use http: or https:/);
    });
  });

  describe('refused settings name the variable', () => {
    const cases: { name: string; env: Env; named: string[]; match?: RegExp }[] = [
      {
        name: 'production with nothing set names every required variable',
        env: { NODE_ENV: 'production' },
        named: ['DATABASE_URL', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'PUBLIC_BASE_URL', 'S3_BUCKET'],
      },
      { name: 'a whitespace-only required variable is missing', env: { ...PRODUCTION_ENV, JWT_ISSUER: '   ' }, named: ['JWT_ISSUER'], match: /JWT_ISSUER is required/ },
      { name: 'a non-numeric PORT', env: { PORT: 'http' }, named: ['PORT'], match: /PORT must be an integer between 0 and 65535, got "http"/ },
      { name: 'a PORT out of range', env: { PORT: '65536' }, named: ['PORT'] },
      { name: 'a negative integer', env: { RATE_LIMIT_MAX: '-1' }, named: ['RATE_LIMIT_MAX'] },
      { name: 'an integer below its minimum', env: { RATE_LIMIT_WINDOW_MS: '10' }, named: ['RATE_LIMIT_WINDOW_MS'] },
      { name: 'a fractional integer', env: { BODY_LIMIT_BYTES: '1.5e6' }, named: ['BODY_LIMIT_BYTES'] },
      { name: 'a JWT_MAX_LIFETIME that is not a duration', env: { JWT_MAX_LIFETIME: '1 week' }, named: ['JWT_MAX_LIFETIME'], match: /like 3600, 30m, 24h or 7d/ },
      { name: 'a DATABASE_URL of another database', env: { DATABASE_URL: 'mysql://h/d' }, named: ['DATABASE_URL'], match: /must use postgres: or postgresql:/ },
      { name: 'a DATABASE_URL that is not a URL', env: { DATABASE_URL: 'localhost:5432' }, named: ['DATABASE_URL'] },
      { name: 'a JWT_JWKS_URL that is not a URL', env: { JWT_JWKS_URL: 'keys.json' }, named: ['JWT_JWKS_URL'], match: /not a valid URL/ },
      { name: 'a PUBLIC_BASE_URL with another scheme', env: { PUBLIC_BASE_URL: 'ftp://x' }, named: ['PUBLIC_BASE_URL'] },
      { name: 'an S3_ENDPOINT that is not http(s)', env: { S3_ENDPOINT: 'file:///tmp' }, named: ['S3_ENDPOINT'] },
      { name: 'a boolean that is neither true nor false', env: { DOCUMENT_DOWNLOAD_REDIRECT: 'yes' }, named: ['DOCUMENT_DOWNLOAD_REDIRECT'] },
      { name: 'an unknown DEVICES_API_MODE', env: { DEVICES_API_MODE: 'staging' }, named: ['DEVICES_API_MODE'], match: /got "staging"/ },
      { name: 'production without S3 says how to keep blobs locally', env: { ...PRODUCTION_ENV, S3_BUCKET: undefined }, named: ['S3_BUCKET'], match: /ALLOW_LOCAL_BLOBS=true/ },
      { name: 'TRUST_PROXY=true, which would let any client pick its address', env: { TRUST_PROXY: 'true' }, named: ['TRUST_PROXY'], match: /hop count|addresses/ },
      { name: 'a TRUST_PROXY entry that is not an address', env: { TRUST_PROXY: '10.0.0.0/8, proxy.internal' }, named: ['TRUST_PROXY'], match: /"proxy\.internal"/ },
      { name: 'a TRUST_PROXY CIDR with too many bits', env: { TRUST_PROXY: '10.0.0.0/33' }, named: ['TRUST_PROXY'] },
      { name: 'a REQUEST_TIMEOUT_MS under a second', env: { REQUEST_TIMEOUT_MS: '10' }, named: ['REQUEST_TIMEOUT_MS'] },
      { name: 'a REDIS_URL of another scheme', env: { REDIS_URL: 'http://cache:6379' }, named: ['REDIS_URL'], match: /redis: or rediss:/ },
      {
        name: 'every problem is reported at once',
        env: { PORT: 'x', RATE_LIMIT_MAX: 'y', DATABASE_URL: 'z', DEVICES_API_MODE: 'w' },
        named: ['PORT', 'RATE_LIMIT_MAX', 'DATABASE_URL', 'DEVICES_API_MODE'],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const found = problems(c.env);
        assert.ok(found.length > 0, 'the configuration is refused');
        for (const name of c.named) {
          assert.equal(found.filter((p) => p.startsWith(name) || p.includes(` ${name} `)).length, 1, `one problem names ${name}: ${found.join(' | ')}`);
        }
        if (c.match) assert.ok(found.some((p) => c.match!.test(p)), `${c.match} in ${found.join(' | ')}`);
      });
    }
  });

  describe('isProductionEnv', () => {
    const cases: [Env, boolean][] = [
      [{}, false],
      [{ NODE_ENV: 'production' }, true],
      [{ NODE_ENV: 'development' }, false],
      [{ DEVICES_API_MODE: 'production' }, true],
      [{ DEVICES_API_MODE: 'embedded', NODE_ENV: 'production' }, false],
      [{ DEVICES_API_MODE: 'production', NODE_ENV: 'development' }, true],
    ];
    for (const [env, expected] of cases) {
      it(`${JSON.stringify(env)} → ${expected ? 'production' : 'embedded'}`, () => assert.equal(isProductionEnv(env), expected));
    }
  });
});
