// @dimo-network/data-sdk 1.2.1's `Devices` calls, sent exactly as the SDK sends them — axios 1.x,
// `axios({method, url, params, data: body ? body : '', headers})`, so a bodyless POST goes out as
// application/x-www-form-urlencoded with Content-Length 0, and bodies are wrapped as the SDK
// wraps them — walking register → mint → error codes → claim → pair → metadata → unpair on the
// real app, a real anvil with the registry, the relayer and the indexer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import axios, { type AxiosResponse } from 'axios';
import { keccak256, toBytes, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { mintAftermarketDevices } from '../../src/chain/deploy.ts';
import { startChainApp, signTyped, until, type ChainApp, type Payload } from '../helpers/chain-app.ts';

const key = (label: string): LocalAccount => privateKeyToAccount(keccak256(toBytes(`data-sdk e2e ${label}`)));

describe('the data-sdk Devices calls, as the SDK sends them', () => {
  let env: ChainApp;
  let token: string;
  const user = key('user');
  const device = key('device');
  const serial = 'sdk-e2e-1';
  const seen: { method: string; contentType: unknown; contentLength: unknown }[] = [];

  before(async () => {
    env = await startChainApp({ env: { RATE_LIMIT_MAX: '100000' } });
    token = await env.t.token('sdk-user', user.address);
  });
  after(async () => env?.close());

  /** One SDK call, as its Method() makes it: public calls carry no Authorization header. */
  async function sdk(method: string, path: string, auth: boolean, body?: unknown): Promise<AxiosResponse> {
    const headers = auth ? { Authorization: `Bearer ${token}` } : {};
    const r = await axios({ method, url: env.t.url + path, params: {}, data: body ? body : '', headers, validateStatus: () => true });
    // The head as sent (Node adds Content-Length: 0 itself when nothing is written).
    const head = String((r.request as { _header?: string })._header);
    seen.push({ method, contentType: /^content-type: *(.*)\r$/im.exec(head)?.[1], contentLength: /^content-length: *(\d+)\r$/im.exec(head)?.[1] });
    return r;
  }
  const show = (r: AxiosResponse) => `${r.status} ${JSON.stringify(r.data).slice(0, 300)}`;
  const bySerial = async () => (await env.t.request('GET', `/v1/aftermarket/device/by-serial/${serial}`, { token })).json;
  const mine = async (id: string) => (await env.t.request('GET', '/v1/user/devices/me', { token })).json.userDevices.find((d: { id: string }) => d.id === id);

  // One walk, in order: each step needs the previous one's state.
  const state: { vin?: string; vehicle?: string; vehicleToken?: string; deviceToken?: bigint; deviceName?: string } = {};

  it('createVehicleFromVin with canProtocol "6"', async () => {
    const r = await sdk('POST', '/v1/user/devices/fromvin', true, { canProtocol: '6', countryCode: 'USA', vin: '1HGCM82633A004352' });
    assert.equal(r.status, 201, show(r));
    state.vin = r.data.userDevice.id;
  });

  it('createVehicle', async () => {
    const r = await sdk('POST', '/v1/user/devices', true, { countryCode: 'USA', deviceDefinitionId: 'ford_bronco_2021' });
    assert.equal(r.status, 201, show(r));
    state.vehicle = r.data.userDevice.id;
  });

  it('getMintingPayload (an empty form-encoded POST), then signMintingPayload {mintRequest}', async () => {
    const path = `/v1/user/devices/${state.vehicle}/commands/mint`;
    const td = await sdk('POST', path, true);
    assert.equal(td.status, 200, show(td));
    assert.equal(td.data.primaryType, 'MintVehicleWithDeviceDefinitionSign');
    const r = await sdk('POST', path, true, { mintRequest: { signature: await signTyped(user, td.data as Payload) } });
    assert.equal(r.status, 202, show(r));
    state.vehicleToken = String(await until('vehicle minted', async () => (await mine(state.vehicle!))?.nft?.tokenId));
  });

  it('submitErrorCodes {queryDeviceErrorCodes}, listErrorCodes, clearErrorCodes (an empty form-encoded POST)', async () => {
    const path = `/v1/user/devices/${state.vin}/error-codes`;
    const submitted = await sdk('POST', path, true, { queryDeviceErrorCodes: { errorCodes: ['P0300', 'B0001'] } });
    assert.equal(submitted.status, 200, show(submitted));
    assert.deepEqual(submitted.data.errorCodes.map((c: { code: string }) => c.code), ['P0300', 'B0001']);
    const listed = await sdk('GET', path, true);
    assert.equal(listed.status, 200, show(listed));
    assert.equal(listed.data.queries[0].errorCodes[0].code, 'P0300');
    const cleared = await sdk('POST', `${path}/clear`, true);
    assert.equal(cleared.status, 200, show(cleared));
    assert.ok(cleared.data.clearedAt);
  });

  it('getClaimingPayload (an empty form-encoded POST), then signClaimingPayload {claimRequest}', async () => {
    const [minted] = await mintAftermarketDevices({
      publicClient: env.c.publicClient,
      walletClient: env.c.wallet(env.c.accounts.manufacturer),
      registry: env.c.deployment.registry,
      manufacturerNode: env.c.seed.manufacturers.AutoPi!,
      devices: [{ serial, address: device.address }],
    });
    state.deviceToken = minted!.tokenId;
    await until('device indexed', async () => (await bySerial())?.tokenId);
    const path = `/v1/aftermarket/device/by-serial/${serial}/commands/claim`;
    const td = await sdk('POST', path, true);
    assert.equal(td.status, 200, show(td));
    assert.equal(td.data.primaryType, 'ClaimAftermarketDeviceSign');
    const claimRequest = { userSignature: await signTyped(user, td.data), aftermarketDeviceSignature: await signTyped(device, td.data) };
    const r = await sdk('POST', path, true, { claimRequest });
    assert.equal(r.status, 202, show(r));
    await until('device claimed', async () => (await bySerial())?.ownerAddress === user.address);
  });

  it('getPairingPayload (no serial), then signPairingPayload {userSignature}', async () => {
    const path = `/v1/user/devices/${state.vehicle}/aftermarket/commands/pair`;
    const td = await sdk('GET', path, true);
    assert.equal(td.status, 200, show(td));
    assert.equal(td.data.primaryType, 'PairAftermarketDeviceSign');
    const r = await sdk('POST', path, true, { userSignature: await signTyped(user, td.data) });
    assert.equal(r.status, 202, show(r));
    await until('device paired', async () => String((await bySerial())?.vehicleTokenId) === state.vehicleToken);
  });

  it('getAftermarketDevice, getAftermarketDeviceImage and getAftermarketDeviceMetadataByAddress, without a token', async () => {
    const meta = await sdk('GET', `/v1/aftermarket/device/${state.deviceToken}`, false);
    assert.equal(meta.status, 200, show(meta));
    const attrs = Object.fromEntries(meta.data.attributes.map((a: { trait_type: string; value: unknown }) => [a.trait_type, String(a.value)]));
    assert.equal(attrs['Serial Number'], serial);
    const image = await sdk('GET', `/v1/aftermarket/device/${state.deviceToken}/image`, false);
    assert.equal(image.status, 200);
    assert.match(String(image.headers['content-type']), /^image\/png/);
    const byAddress = await sdk('GET', `/v1/aftermarket/device/by-address/${device.address}`, false);
    assert.equal(byAddress.status, 200, show(byAddress));
    assert.equal(byAddress.data.name, meta.data.name);
  });

  it('getUnpairingPayload, then signUnpairingPayload {userSignature}', async () => {
    const path = `/v1/user/devices/${state.vehicle}/aftermarket/commands/unpair`;
    const td = await sdk('GET', path, true);
    assert.equal(td.status, 200, show(td));
    assert.equal(td.data.primaryType, 'UnPairAftermarketDeviceSign');
    const r = await sdk('POST', path, true, { userSignature: await signTyped(user, td.data) });
    assert.equal(r.status, 202, show(r));
    await until('device unpaired', async () => (await bySerial())?.vehicleTokenId === null);
  });

  it('sent the bodyless POSTs the way the SDK does: form-encoded with Content-Length 0', () => {
    const bodyless = seen.filter((s) => s.method === 'POST' && String(s.contentLength) === '0');
    assert.ok(bodyless.length >= 3, JSON.stringify(seen));
    for (const s of bodyless) assert.match(String(s.contentType), /application\/x-www-form-urlencoded/);
  });
});
