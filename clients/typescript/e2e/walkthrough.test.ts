// The README's walk-through (register, mint, seed, claim, pair, metadata, unpair) through this
// client against a running embedded server: BASE is its URL, DATA_DIR its data directory and PROJ
// the service's checkout, whose CLI (`npm run -s cli -- …`) signs tokens, seeds devices and signs
// as a device. The user's wallet is a viem local account.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { createDevicesApiClient, waitForTransaction, type DevicesApiClient, type Schemas } from '../src/index.js';

const BASE = required('BASE');
const PROJ = required('PROJ');
required('DATA_DIR'); // the CLI signs tokens with the server's key, found in DATA_DIR

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: BASE (the server's URL), DATA_DIR (its data directory) and PROJ (the service's checkout) are needed`);
  return v;
}

/** The service's CLI, as the README runs it; answers its output. */
function cli(args: string[], input?: string): string {
  return execFileSync('npm', ['run', '-s', 'cli', '--', ...args], { cwd: PROJ, env: process.env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'inherit'] }).trim();
}
const lastLine = (text: string) => text.split('\n').pop() ?? '';

type TypedData = Schemas['MintingPayload'] | Schemas['ClaimingPayload'] | Schemas['PairingPayload'] | Schemas['UnpairingPayload'];

/** Signs a payload as a wallet does with eth_signTypedData_v4: uint fields are numbers. */
function sign(account: PrivateKeyAccount, td: TypedData): Promise<`0x${string}`> {
  const { EIP712Domain: _domain, ...types } = td.types as Record<string, { name: string; type: string }[]>;
  const fields = types[td.primaryType] ?? [];
  const message = Object.fromEntries(fields.map((f) => [f.name, /^u?int\d*$/.test(f.type) ? BigInt((td.message as Record<string, string>)[f.name]!) : (td.message as Record<string, unknown>)[f.name]]));
  return account.signTypedData({ domain: { ...td.domain, verifyingContract: td.domain.verifyingContract as `0x${string}` }, types, primaryType: td.primaryType, message });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A Honda Accord 2003 VIN (the README's) with a random serial, so every run registers a new one. */
function freshVin(): string {
  const vin = `1HGCM82603A${String(randomInt(1_000_000)).padStart(6, '0')}`;
  const values: Record<string, number> = { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 };
  const weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
  const sum = [...vin].reduce((s, c, i) => s + (/\d/.test(c) ? Number(c) : values[c]!) * weights[i]!, 0);
  const check = sum % 11 === 10 ? 'X' : String(sum % 11);
  return vin.slice(0, 8) + check + vin.slice(9);
}

function ok<T>(r: { data?: T; error?: unknown; response: Response }, what: string, status?: number): T {
  assert.equal(r.error, undefined, `${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  if (status !== undefined) assert.equal(r.response.status, status, `${what}: status`);
  return r.data as T;
}

async function confirmed(api: DevicesApiClient, tx: Schemas['TransactionRequest'], what: string) {
  const done = await waitForTransaction(api, tx.requestId);
  assert.equal(done.status, 'Confirmed', `${what}: ${done.status} ${done.failureReason ?? ''}`);
}

test('the README walk-through through the typed client: register, mint, seed, claim, pair, metadata, unpair', { timeout: 280_000 }, async () => {
  const user = privateKeyToAccount(generatePrivateKey());
  const token = lastLine(cli(['token', '--sub', `client-e2e-${Date.now()}`, '--address', user.address]));
  const api = createDevicesApiClient({ baseUrl: BASE, token });
  const anyone = createDevicesApiClient({ baseUrl: BASE });

  // 3. register a vehicle from its VIN
  const { userDevice } = ok(await api.POST('/v1/user/devices/fromvin', { body: { vin: freshVin(), countryCode: 'USA' } }), 'register', 201);
  const ud = userDevice.id;
  assert.equal(userDevice.deviceDefinition.type.make, 'Honda');

  // 4. mint it with the user's signature
  const userDeviceId = { path: { userDeviceId: ud } };
  const mintPayload = ok(await api.GET('/v1/user/devices/{userDeviceId}/commands/mint', { params: userDeviceId }), 'mint payload');
  const mint = ok(await api.POST('/v1/user/devices/{userDeviceId}/commands/mint', { params: userDeviceId, body: { signature: await sign(user, mintPayload) } }), 'mint', 202);
  await confirmed(api, mint as Schemas['TransactionRequest'], 'mint');
  const vehicle = await until('the vehicle NFT', async () => {
    const me = ok(await api.GET('/v1/user/devices/me'), '/me');
    return me.userDevices.find((d) => d.id === ud)?.nft?.tokenId;
  });

  // 5. devices: seed the demo devices; take one nobody has claimed yet (or mint one with a dev key)
  const seeded = JSON.parse(cli(['seed']).replace(/^[^{]*/, '')) as { devices: { serial: string }[] };
  let serial: string | undefined;
  for (const d of seeded.devices) {
    const info = await until(`device ${d.serial} indexed`, async () => (await api.GET('/v1/aftermarket/device/by-serial/{serial}', { params: { path: { serial: d.serial } } })).data);
    if (info.ownerAddress === null) {
      serial = d.serial;
      break;
    }
  }
  if (!serial) {
    serial = `client-e2e-${Date.now()}`;
    cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', serial, '--dev-key']);
  }
  const bySerial = { path: { serial } };
  const device = await until('the device indexed', async () => (await api.GET('/v1/aftermarket/device/by-serial/{serial}', { params: bySerial })).data);

  // 6. claim it: the user's and the device's signatures
  const claimPayload = ok(await api.GET('/v1/aftermarket/device/by-serial/{serial}/commands/claim', { params: bySerial }), 'claim payload');
  const deviceSignature = lastLine(cli(['dev', 'sign', '--serial', serial, '-'], JSON.stringify(claimPayload)));
  const claim = ok(
    await api.POST('/v1/aftermarket/device/by-serial/{serial}/commands/claim', {
      params: bySerial,
      body: { userSignature: await sign(user, claimPayload), aftermarketDeviceSignature: deviceSignature },
    }),
    'claim',
    202,
  );
  await confirmed(api, claim as Schemas['TransactionRequest'], 'claim');
  await until('the claim indexed', async () => (await api.GET('/v1/aftermarket/device/by-serial/{serial}', { params: bySerial })).data?.ownerAddress === user.address);

  // 7. pair it with the vehicle
  const pairPayload = ok(await api.GET('/v1/user/devices/{userDeviceId}/aftermarket/commands/pair', { params: { ...userDeviceId, query: { serial } } }), 'pair payload');
  const pair = ok(await api.POST('/v1/user/devices/{userDeviceId}/aftermarket/commands/pair', { params: userDeviceId, body: { userSignature: await sign(user, pairPayload), serial } }), 'pair', 202);
  await confirmed(api, pair, 'pair');
  await until('the pairing indexed', async () => (await api.GET('/v1/aftermarket/device/by-serial/{serial}', { params: bySerial })).data?.vehicleTokenId === vehicle);

  // 8. public NFT metadata, without a token
  const tokenId = { path: { tokenId: String(device.tokenId) } };
  const metadata = ok(await anyone.GET('/v1/aftermarket/device/{tokenId}', { params: tokenId }), 'device metadata');
  assert.ok(metadata.attributes.some((a) => a.trait_type === 'Serial Number' && a.value === serial), JSON.stringify(metadata.attributes));
  const byAddress = ok(await anyone.GET('/v1/aftermarket/device/by-address/{address}', { params: { path: { address: device.ethereumAddress.toLowerCase() } } }), 'by address');
  assert.equal(byAddress.name, metadata.name);
  const image = await anyone.GET('/v1/aftermarket/device/{tokenId}/image', { params: tokenId, parseAs: 'arrayBuffer' });
  assert.equal(image.response.headers.get('content-type'), 'image/png');
  const vehicleMetadata = ok(await anyone.GET('/v1/vehicle/{tokenId}', { params: { path: { tokenId: String(vehicle) } } }), 'vehicle metadata');
  assert.match(vehicleMetadata.name, /Honda Accord 2003/);

  // 9. unpair
  const unpairPayload = ok(await api.GET('/v1/user/devices/{userDeviceId}/aftermarket/commands/unpair', { params: userDeviceId }), 'unpair payload');
  const unpair = ok(await api.POST('/v1/user/devices/{userDeviceId}/aftermarket/commands/unpair', { params: userDeviceId, body: { userSignature: await sign(user, unpairPayload) } }), 'unpair', 202);
  await confirmed(api, unpair, 'unpair');
  await until('the unpairing indexed', async () => (await api.GET('/v1/aftermarket/device/by-serial/{serial}', { params: bySerial })).data?.vehicleTokenId === null);

  // errors come typed too
  const missing = await api.GET('/v1/transactions/{requestId}', { params: { path: { requestId: '0'.repeat(27) } } });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.error?.error, 'NOT_FOUND');
});
