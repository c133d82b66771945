// The benchmark's scenarios. To add one, append an entry: the driver (bench/run.ts) checks it once
// with a plain request, warms up, measures it with the same wrk settings as the baseline and prints
// requests/s, p50, p99 and the ratio to the baseline. Targets are per mode and only reported.

import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from 'viem/accounts';
import { signPayload } from './chain-fixture.ts';
import { grantShare, shareExpiry } from './share-flow.ts';

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
  /** Runs the service's CLI (e.g. ['seed']) against the running service's DATA_DIR and chain; resolves with its stdout. */
  cli(args: string[]): Promise<string>;
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
  /** wrk connections for this scenario (default BENCH_CONNECTIONS); 1 measures a lone request's latency. */
  connections?: number;
  /** A cursor of its own on every request (see WrkRequest.distinctCursor): the response cache never answers. */
  distinctCursor?: boolean;
}

export const VEHICLE_COUNT = 20;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Calls `probe` every 250 ms until it yields a value; throws after `timeoutMs`. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Once per mode (setups share it through ctx.state): the same promise for every caller. */
function once<T>(ctx: BenchContext, key: string, make: () => Promise<T>): Promise<T> {
  ctx.state[key] ??= make();
  return ctx.state[key] as Promise<T>;
}

interface DemoDevice {
  serial: string;
  tokenId: string;
}

/**
 * An aftermarket device NFT: the CLI's `seed` mints the demo devices on the embedded chain, and
 * the service's indexer records them. Waits on by-serial, which needs the Serial attribute too, so
 * the public metadata is never first read from a half-indexed row.
 */
const demoDevice = (ctx: BenchContext) =>
  once(ctx, 'demoDevice', async (): Promise<DemoDevice> => {
    const serial = 'demo-autopi-1';
    // Token ids print as JSON numbers (exact digits); the demo's are small enough for a double.
    const seeded = JSON.parse(await ctx.cli(['seed'])) as { devices: { serial: string; tokenId: number }[] };
    const found = seeded.devices.find((d) => d.serial === serial)?.tokenId;
    const tokenId = found === undefined ? undefined : String(found);
    if (!tokenId) throw new Error(`seed did not report ${serial}: ${JSON.stringify(seeded).slice(0, 300)}`);
    await poll(`the indexer to record ${serial}`, async () => {
      const r = await ctx.request('GET', `/v1/aftermarket/device/by-serial/${serial}`, { token: ctx.fixture.token });
      return r.status === 200 && String(r.body?.tokenId) === tokenId ? true : undefined;
    });
    return { serial, tokenId };
  });

/** Twenty valid codes of several systems, one with a failure-type byte and one manufacturer-defined. */
const DTC_CODES = [
  'P0101', 'P0106-1C', 'P0128', 'P0135', 'P0141', 'P0171', 'P0300', 'P0301', 'P0401', 'P0420',
  'P0442', 'P0455', 'P0507', 'P0700', 'P1000', 'P2187', 'B0001', 'C0035', 'U0100', 'U0401',
];
const DTC_HISTORY = 50;

/** A user of their own for the error-code scenarios, so /me keeps its fixture. */
const dtcUser = (ctx: BenchContext) => once(ctx, 'dtcUser', () => ctx.token('bench-dtc'));

async function registerVehicle(ctx: BenchContext, token: string): Promise<string> {
  const r = await ctx.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
  if (r.status !== 201) throw new Error(`registering a vehicle failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body.userDevice.id as string;
}

/**
 * A user owning `n` vehicles, every one minted through the API (register, mint payload, owner's
 * signature, relayer, indexer), so that /me reads every relation of every vehicle.
 */
export const fleet = (ctx: BenchContext, n: number, label = 'fleet') =>
  once(ctx, `${label}-${n}`, async (): Promise<{ token: string; owner: LocalAccount; vehicleIds: string[] }> => {
    const owner = privateKeyToAccount(generatePrivateKey());
    const token = await ctx.token(`bench-${label}-${n}`, owner.address);
    const expect = async (status: number, method: string, p: string, body?: unknown) => {
      const r = await ctx.request(method, p, { token, body });
      if (r.status !== status) throw new Error(`fleet of ${n}: ${method} ${p} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
      return r.body;
    };
    const mintOne = async () => {
      const id = (await expect(201, 'POST', '/v1/user/devices', { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' })).userDevice.id as string;
      const payload = await expect(200, 'GET', `/v1/user/devices/${id}/commands/mint`);
      await expect(202, 'POST', `/v1/user/devices/${id}/commands/mint`, { signature: await signPayload(owner, payload) });
    };
    for (let i = 0; i < n; i += 8) await Promise.all(Array.from({ length: Math.min(8, n - i) }, mintOne));
    const vehicleIds = await poll(`${n} vehicles minted`, async () => {
      const me = await expect(200, 'GET', '/v1/user/devices/me?limit=500');
      const page = me.userDevices as { nft: { tokenId: unknown } | null }[];
      // Newest first: once the newest page is minted, poll the whole list.
      if (!page.every((d) => d.nft?.tokenId != null)) return undefined;
      const all = (await expect(200, 'GET', '/v1/user/devices/me')).userDevices as { id: string; nft: { tokenId: unknown } | null }[];
      return all.length === n && all.every((d) => d.nft?.tokenId != null) ? all.map((d) => d.id) : undefined;
    }, 600_000);
    return { token, owner, vehicleIds };
  });

const fleetScenario = (n: number): Scenario => ({
  name: `me-fleet-${n}`,
  description: `GET /v1/user/devices/me of a user with ${n} minted vehicles, past the response cache, one connection — list query, one query per relation, ${n} vehicles rendered`,
  optIn: true,
  path: '/v1/user/devices/me',
  connections: 1,
  distinctCursor: true,
  setup: async (ctx) => {
    ctx.state[`fleetToken-${n}`] = (await fleet(ctx, n)).token;
  },
  headers: (ctx) => bearer(ctx.state[`fleetToken-${n}`] as string),
  check: (b) => (b?.userDevices?.length === n && b.userDevices.every((d: any) => d.nft?.tokenId != null) ? null : `expected ${n} minted vehicles, got ${JSON.stringify(b).slice(0, 200)}`),
});

export const SHARED_COUNT = 500;

/**
 * A grantee holding privileges 1 and 3 on `SHARED_COUNT` vehicles of one owner, every one minted
 * and shared through the API (signed grants, relayer, indexer).
 */
const sharedFleet = (ctx: BenchContext) =>
  once(ctx, 'sharedFleet', async (): Promise<string> => {
    const { token, owner, vehicleIds } = await fleet(ctx, SHARED_COUNT, 'sharing-owner');
    const grantee = privateKeyToAccount(generatePrivateKey());
    const granteeToken = await ctx.token('bench-shared-grantee', grantee.address);
    const expiresAt = shareExpiry();
    for (let i = 0; i < vehicleIds.length; i += 8) {
      await Promise.all(vehicleIds.slice(i, i + 8).map((id) => grantShare(ctx, { token, account: owner }, id, grantee.address, expiresAt)));
    }
    await poll(`${SHARED_COUNT} vehicles in the grantee's /shared`, async () => {
      const r = await ctx.request('GET', '/v1/user/devices/shared', { token: granteeToken });
      return r.body?.sharedDevices?.length === SHARED_COUNT ? true : undefined;
    }, 600_000);
    return granteeToken;
  });

const DOCUMENT_COUNT = 100;

/** Uploads `DOCUMENT_COUNT` small PDFs for the fixture user, half of them linked to a vehicle. */
async function seedDocuments(ctx: BenchContext): Promise<void> {
  const pdf = new Blob([`%PDF-1.4\n% devices-api bench document\n${'x'.repeat(1000)}\n%%EOF\n`], { type: 'application/pdf' });
  const uploadOne = async (i: number) => {
    const form = new FormData();
    form.set('name', `Bench document ${i + 1}`);
    form.set('type', i % 2 ? 'VehicleInsurance' : 'Other');
    if (i % 2) form.set('userDeviceId', ctx.fixture.vehicleIds[i % ctx.fixture.vehicleIds.length]!);
    form.set('file', pdf, `document-${i + 1}.pdf`);
    const res = await fetch(`${ctx.baseUrl}/v1/documents`, { method: 'POST', headers: bearer(ctx.fixture.token), body: form });
    if (res.status !== 201) throw new Error(`uploading document ${i + 1} failed: ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
  for (let i = 0; i < DOCUMENT_COUNT; i += 4) await Promise.all([0, 1, 2, 3].map((k) => uploadOne(i + k)));
}

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
    name: 'error-codes-get',
    description: `GET /v1/user/devices/{id}/error-codes — ownership check, ${DTC_HISTORY} stored queries of 5 codes each read and serialized`,
    path: (ctx) => `/v1/user/devices/${ctx.state.dtcHistoryVehicle as string}/error-codes`,
    setup: async (ctx) => {
      const token = (ctx.state.dtcUserToken = await dtcUser(ctx));
      const id = await registerVehicle(ctx, token);
      for (let i = 0; i < DTC_HISTORY; i++) {
        const errorCodes = Array.from({ length: 5 }, (_, k) => DTC_CODES[(i + k) % DTC_CODES.length]);
        const r = await ctx.request('POST', `/v1/user/devices/${id}/error-codes`, { token, body: { errorCodes } });
        if (r.status !== 200) throw new Error(`storing error-code query ${i + 1} failed: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      }
      ctx.state.dtcHistoryVehicle = id;
    },
    headers: (ctx) => bearer(ctx.state.dtcUserToken as string),
    check: (b) => (b?.queries?.length === DTC_HISTORY ? null : `expected ${DTC_HISTORY} queries, got ${JSON.stringify(b).slice(0, 200)}`),
    targets: { postgres: { minRatio: 0.2 } },
  },
  {
    name: 'mint-payload',
    description: 'GET /v1/user/devices/{id}/commands/mint — ownership and mint-state checks, the make\'s manufacturer node, the EIP-712 payload for an unminted vehicle',
    path: (ctx) => `/v1/user/devices/${ctx.fixture.vehicleIds[0]!}/commands/mint`,
    headers: (ctx) => bearer(ctx.fixture.token),
    check: (b) => (b?.primaryType === 'MintVehicleWithDeviceDefinitionSign' ? null : `expected a MintVehicleWithDeviceDefinitionSign payload, got ${JSON.stringify(b).slice(0, 200)}`),
    targets: { postgres: { minRatio: 0.2 } },
  },
  {
    name: 'by-serial',
    description: 'GET /v1/aftermarket/device/by-serial/{serial} — an unclaimed, unpaired demo device (readable by any signed-in user), AftermarketDeviceInfo with request statuses',
    path: (ctx) => `/v1/aftermarket/device/by-serial/${(ctx.state.device as DemoDevice).serial}`,
    setup: async (ctx) => {
      ctx.state.device = await demoDevice(ctx);
    },
    headers: (ctx) => bearer(ctx.fixture.token),
    check: (b, ctx) => (String(b?.tokenId) === (ctx.state.device as DemoDevice).tokenId ? null : `expected the demo device, got ${JSON.stringify(b).slice(0, 200)}`),
    targets: { postgres: { minRatio: 0.25 } },
  },
  {
    name: 'device-metadata',
    description: 'GET /v1/aftermarket/device/{tokenId} — public NFT metadata of a minted device (no auth)',
    path: (ctx) => `/v1/aftermarket/device/${(ctx.state.device as DemoDevice).tokenId}`,
    setup: async (ctx) => {
      ctx.state.device = await demoDevice(ctx);
    },
    check: (b, ctx) =>
      b?.attributes?.some((a: { trait_type: string; value: string }) => a.trait_type === 'Serial Number' && a.value === (ctx.state.device as DemoDevice).serial)
        ? null
        : `expected the demo device's metadata, got ${JSON.stringify(b).slice(0, 200)}`,
    targets: { postgres: { minRatio: 0.5 } },
  },
  {
    name: 'device-image',
    description: 'GET /v1/aftermarket/device/{tokenId}/image — public PNG of a minted device (no auth)',
    path: (ctx) => `/v1/aftermarket/device/${(ctx.state.device as DemoDevice).tokenId}/image`,
    setup: async (ctx) => {
      ctx.state.device = await demoDevice(ctx);
    },
    check: (b) => (typeof b === 'string' && b.startsWith('\uFFFDPNG') ? null : `expected a PNG, got ${String(b).slice(0, 40)}`),
    targets: { postgres: { minRatio: 0.3 } },
  },
  {
    name: 'documents-list',
    description: `GET /v1/documents?limit=${DOCUMENT_COUNT} — the fixture user's ${DOCUMENT_COUNT} documents, newest first, in one page`,
    path: `/v1/documents?limit=${DOCUMENT_COUNT}`,
    setup: seedDocuments,
    headers: (ctx) => bearer(ctx.fixture.token),
    check: (b) => (Array.isArray(b) && b.length === DOCUMENT_COUNT ? null : `expected ${DOCUMENT_COUNT} documents, got ${JSON.stringify(b).slice(0, 200)}`),
    targets: { postgres: { minRatio: 0.2 } },
  },
  {
    // Last of the default set: every request adds a row, and nothing measured after it reads them.
    name: 'error-codes-post',
    description: `POST /v1/user/devices/{id}/error-codes with ${DTC_CODES.length} codes — ownership check, parse and describe, one insert (a vehicle of its own)`,
    method: 'POST',
    path: (ctx) => `/v1/user/devices/${ctx.state.dtcPostVehicle as string}/error-codes`,
    setup: async (ctx) => {
      ctx.state.dtcUserToken = await dtcUser(ctx);
      ctx.state.dtcPostVehicle = await registerVehicle(ctx, ctx.state.dtcUserToken as string);
    },
    headers: (ctx) => bearer(ctx.state.dtcUserToken as string),
    body: () => ({ errorCodes: DTC_CODES }),
    check: (b) => (b?.errorCodes?.length === DTC_CODES.length ? null : `expected ${DTC_CODES.length} described codes, got ${JSON.stringify(b).slice(0, 200)}`),
    targets: { postgres: { minRatio: 0.15 } },
  },
  // Opt-in (BENCH_ONLY=me-fleet-20,me-fleet-200,me-fleet-1000): minting 1,220 vehicles takes a while.
  fleetScenario(20),
  fleetScenario(200),
  fleetScenario(1000),
  {
    // Opt-in (BENCH_ONLY=shared-500): the setup mints and shares 500 vehicles.
    name: `shared-${SHARED_COUNT}`,
    description: `GET /v1/user/devices/shared of a grantee holding privileges on ${SHARED_COUNT} vehicles, one connection (the route has no response cache) — one list query, then one query per relation side by side, ${SHARED_COUNT} vehicles rendered with the caller's privileges`,
    optIn: true,
    path: '/v1/user/devices/shared',
    connections: 1,
    setup: async (ctx) => {
      ctx.state.sharedGranteeToken = await sharedFleet(ctx);
    },
    headers: (ctx) => bearer(ctx.state.sharedGranteeToken as string),
    check: (b) =>
      b?.sharedDevices?.length === SHARED_COUNT && b.sharedDevices.every((d: any) => d.privileges?.length === 2)
        ? null
        : `expected ${SHARED_COUNT} shared vehicles with 2 privileges each, got ${JSON.stringify(b).slice(0, 200)}`,
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
