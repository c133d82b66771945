// The benchmark's scenarios. To add one, append an entry: the driver (bench/run.ts) checks it once
// with a plain request, warms up, measures it with the same wrk settings as the baseline and prints
// requests/s, p50, p99 and the ratio to the baseline. Targets are per mode and only reported.

export type Mode = 'embedded' | 'postgres';

export interface Target {
  /** Minimum requests/s as a fraction of the bare-Fastify baseline measured in the same run. */
  minRatio?: number;
  /** Maximum 99th-percentile latency, in milliseconds. */
  maxP99Ms?: number;
}

export interface Fixture {
  /** Bearer token of the seeded user (sub "bench-user", with an address). */
  token: string;
  userId: string;
  address: string;
  /** Ids of the seeded user's vehicles. */
  vehicleIds: string[];
}

export interface BenchContext {
  mode: Mode;
  /** e.g. http://127.0.0.1:41234 — the running service. */
  baseUrl: string;
  /** Dev token from the service's CLI (`token --sub … [--address …]`), same DATA_DIR as the server. */
  token(sub: string, address?: string): Promise<string>;
  /** A plain request to the service; throws on network errors only. */
  request(method: string, path: string, init?: { token?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  fixture: Fixture;
  /** Per-mode scratch space for scenarios' setup() results. */
  state: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  method?: string;
  path: string | ((ctx: BenchContext) => string);
  headers?: (ctx: BenchContext) => Record<string, string>;
  /** JSON body; sent with content-type application/json. */
  body?: (ctx: BenchContext) => unknown;
  /** The status every response must have (default 200). */
  expectStatus?: number;
  /** Checks the response to one plain request before the load; returns a problem or null. */
  check?: (body: any, ctx: BenchContext) => string | null;
  /** Runs once per mode before the scenario's check and load. */
  setup?: (ctx: BenchContext) => Promise<void>;
  targets?: Partial<Record<Mode, Target>>;
  /** Only run when named in BENCH_ONLY (e.g. scenarios that write and would grow the data). */
  optIn?: boolean;
}

export const VEHICLE_COUNT = 20;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const scenarios: Scenario[] = [
  {
    name: 'health',
    description: 'GET /health — public route through the global plugins (request id, security headers, CORS, rate-limit allow-list, metrics, error handler)',
    path: '/health',
    check: (b) => (b?.status === 'ok' ? null : `expected {"status":"ok"}, got ${JSON.stringify(b)}`),
    targets: { postgres: { minRatio: 0.6 } },
  },
  {
    name: 'me',
    description: `GET /v1/user/devices/me — JWT verification, rate limit, one owned-vehicles query, ${VEHICLE_COUNT} vehicles serialized`,
    path: '/v1/user/devices/me',
    headers: (ctx) => bearer(ctx.fixture.token),
    check: (b) =>
      Array.isArray(b?.userDevices) && b.userDevices.length === VEHICLE_COUNT
        ? null
        : `expected ${VEHICLE_COUNT} userDevices, got ${JSON.stringify(b).slice(0, 200)}`,
    targets: { postgres: { minRatio: 0.25, maxP99Ms: 25 } },
  },
  {
    name: 'me-unauthorized',
    description: 'GET /v1/user/devices/me without a token — the 401 path of auth and the error handler',
    path: '/v1/user/devices/me',
    expectStatus: 401,
    check: (b) => (b?.error === 'UNAUTHORIZED' ? null : `expected an UNAUTHORIZED error body, got ${JSON.stringify(b)}`),
  },
  {
    name: 'register',
    description: 'POST /v1/user/devices — insert one vehicle per request (a separate user, so /me keeps its 20)',
    optIn: true,
    method: 'POST',
    path: '/v1/user/devices',
    expectStatus: 201,
    setup: async (ctx) => {
      ctx.state.registerToken = await ctx.token('bench-writer');
    },
    headers: (ctx) => bearer(ctx.state.registerToken as string),
    body: () => ({ deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' }),
  },
];
