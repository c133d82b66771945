// The chain CLI as a manufacturer or developer runs it beside a running embedded server:
// `devices mint` (one device, a CSV batch, dev keys), `seed`, `dev sign`, and the clear refusals
// when there is no server, in production mode, or with bad input. Also `worker`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createPublicClient, http, recoverTypedDataAddress, type Address, type PublicClient } from 'viem';
import { privateKeyToAccount, generatePrivateKey } from 'viem/accounts';
import { killAllClis, runCli, spawnCli, startServe, tempDir, type CliProcess } from '../helpers/cli.ts';
import { dimoRegistryAbi } from '../../src/chain/abi/index.ts';
import { createDevKeyDeriver, DEMO_DEVICES } from '../../src/chain/dev-keys.ts';
import { readChainFile, readChainRuntime, chainPaths, type ChainFile } from '../../src/chain/embedded.ts';
import { claimAftermarketDevicePayload, toViemTypedData } from '../../src/domain/eip712.ts';
import { PRODUCTION_ENV } from '../helpers/production-env.ts';

const dirs: string[] = [];
let dataDir: string;
let server: CliProcess & { url: string };
let file: ChainFile;
let client: PublicClient;
const keys = createDevKeyDeriver();

function dir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { DATA_DIR: dataDir, ...env }, 120_000);

async function tokenOf(address: Address): Promise<bigint> {
  return client.readContract({ address: file.deployment.registry, abi: dimoRegistryAbi, functionName: 'getAftermarketDeviceIdByAddress', args: [address] });
}

before(async () => {
  dataDir = dir('chain-cli');
  server = await startServe(dataDir);
  file = readChainFile(dataDir)!;
  const runtime = readChainRuntime(dataDir)!;
  client = createPublicClient({ transport: http(runtime.rpcUrl) });
});

after(async () => {
  await killAllClis();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('devices mint', () => {
  it('mints one device for a manufacturer and prints its token id as JSON', async () => {
    const device = privateKeyToAccount(generatePrivateKey()).address;
    const r = await cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', 'cli-one', '--address', device.toLowerCase()]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.manufacturer, 'AutoPi');
    assert.equal(out.manufacturerTokenId, Number(file.seed.manufacturers.AutoPi));
    assert.equal(out.devices.length, 1);
    assert.deepEqual({ ...out.devices[0], tokenId: undefined }, { serial: 'cli-one', address: device, tokenId: undefined });
    assert.equal(typeof out.devices[0].tokenId, 'number');
    assert.equal(await tokenOf(device), BigInt(out.devices[0].tokenId));
    assert.match(r.stderr, /minted 1\/1 AutoPi device\(s\)/);

    const again = await cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', 'cli-one-b', '--address', device]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, new RegExp(`error: Already minted, nothing was sent: cli-one-b \\(${device}, token ${out.devices[0].tokenId}\\)`));
  });

  it('mints a CSV batch with dev keys, which dev sign can then sign for', async () => {
    const csv = path.join(dir('chain-cli-csv'), 'devices.csv');
    fs.writeFileSync(csv, 'serial\ncsv-dev-1\ncsv-dev-2\n');
    const r = await cli(['devices', 'mint', '--manufacturer', 'Macaron', '--csv', csv, '--dev-key']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.devices.map((d: { serial: string; address: string }) => [d.serial, d.address]),
      ['csv-dev-1', 'csv-dev-2'].map((s) => [s, keys.accountFor(s).address]),
    );
    for (const d of out.devices) assert.equal(await tokenOf(d.address), BigInt(d.tokenId));

    const payload = claimAftermarketDevicePayload(
      { chainId: file.chainId, verifyingContract: file.deployment.registry },
      { aftermarketDeviceNode: BigInt(out.devices[1].tokenId), owner: '0x1111111111111111111111111111111111111111' },
    );
    const payloadFile = path.join(path.dirname(csv), 'claim.json');
    fs.writeFileSync(payloadFile, JSON.stringify(payload));
    const signed = await cli(['dev', 'sign', '--serial', 'csv-dev-2', payloadFile]);
    assert.equal(signed.code, 0, signed.stderr);
    assert.match(signed.stdout, /^0x[0-9a-f]{130}\n$/);
    const typed = toViemTypedData(payload) as unknown as Parameters<typeof recoverTypedDataAddress>[0];
    assert.equal(await recoverTypedDataAddress({ ...typed, signature: signed.stdout.trim() as `0x${string}` }), keys.accountFor('csv-dev-2').address);

    const wrongDevice = await cli(['dev', 'sign', '--serial', 'csv-dev-1', payloadFile]);
    assert.equal(wrongDevice.code, 1);
    assert.equal(wrongDevice.stdout, '');
    assert.match(wrongDevice.stderr, new RegExp(`error: The payload is for aftermarket device ${out.devices[1].tokenId}, whose key is ${out.devices[1].address}, but the dev key of serial "csv-dev-1" is ${out.devices[0].address}`));
  });

  it('refuses bad input before touching the chain', async () => {
    const csv = path.join(dir('chain-cli-bad'), 'bad.csv');
    fs.writeFileSync(csv, 'x-1,0x1111111111111111111111111111111111111111\nx-2\n');
    const [noKey, badCsv, unknown] = await Promise.all([
      cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', 'x']),
      cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--csv', csv]),
      cli(['devices', 'mint', '--manufacturer', 'autopi', '--serial', 'x', '--dev-key']),
    ]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /give the device's key address with --address 0x…, or --dev-key/);
    assert.equal(badCsv.code, 1);
    assert.match(badCsv.stderr, /line 2: serial x-2 has no address \(or use --dev-key\)/);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No manufacturer named "autopi" on the registry \(this chain was seeded with AutoPi, Macaron\)\. Names are case-sensitive\./);
  });
});

describe('seed', () => {
  it('mints the demo devices once; a second run finds them', async () => {
    const first = await cli(['seed']);
    assert.equal(first.code, 0, first.stderr);
    const out = JSON.parse(first.stdout);
    assert.deepEqual(
      out.devices.map((d: { serial: string; manufacturer: string; status: string }) => [d.manufacturer, d.serial, d.status]),
      DEMO_DEVICES.map((d) => [d.manufacturer, d.serial, 'minted']),
    );
    for (const d of out.devices) {
      assert.equal(d.address, keys.accountFor(d.serial).address);
      assert.equal(typeof d.tokenId, 'number', 'token ids print as numbers, as in `devices mint` and the API');
    }

    const second = await cli(['seed']);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(JSON.parse(second.stdout).devices.every((d: { status: string }) => d.status === 'existing'));
  });
});

describe('dev sign', () => {
  it('refuses a payload for another registry, and anything that is not a registry payload', async () => {
    const payloadDir = dir('chain-cli-sign');
    const other = path.join(payloadDir, 'other.json');
    fs.writeFileSync(other, JSON.stringify(claimAftermarketDevicePayload({ chainId: 137, verifyingContract: '0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC' }, { aftermarketDeviceNode: 1n, owner: '0x1111111111111111111111111111111111111111' })));
    const junk = path.join(payloadDir, 'junk.json');
    fs.writeFileSync(junk, JSON.stringify({ hello: 'world' }));
    const [wrong, notPayload, missing] = await Promise.all([
      cli(['dev', 'sign', '--serial', 'demo-autopi-1', other]),
      cli(['dev', 'sign', '--serial', 'demo-autopi-1', junk]),
      cli(['dev', 'sign', '--serial', 'demo-autopi-1', path.join(payloadDir, 'nope.json')]),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /The payload is for registry 0xFA8beC73cebB9D88FF88a2f75E7D7312f2Fd39EC on chain 137, but this DATA_DIR's chain is/);
    assert.equal(wrong.stdout, '');
    assert.equal(notPayload.code, 1);
    assert.match(notPayload.stderr, /not one of the registry's EIP-712 payloads/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.json: ENOENT/);
  });

  it('exists only in embedded mode, like seed and --dev-key', async () => {
    const env = { ...PRODUCTION_ENV };
    const [sign, seed, devKey] = await Promise.all([
      cli(['dev', 'sign', '--serial', 'x', '-'], env),
      cli(['seed'], env),
      cli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', 'x', '--dev-key'], env),
    ]);
    for (const r of [sign, seed, devKey]) {
      assert.equal(r.code, 1);
      assert.match(r.stderr, /exists only in embedded \(development\) mode/);
    }
  });
});

describe('without a running server', () => {
  it('says to start the server first on a fresh data directory', async () => {
    const r = await runCli(['devices', 'mint', '--manufacturer', 'AutoPi', '--serial', 'x', '--dev-key'], { DATA_DIR: dir('chain-cli-empty') }, 120_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /There is no embedded chain in .* yet\. Start the server first \(npm start, with the same DATA_DIR\)/);
  });

  it('says the server is not running once it stopped, and `worker` runs the chain workers alone on the same data', async () => {
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.equal(exit.code, 0);
    assert.equal(fs.existsSync(chainPaths(dataDir).runtime), false);
    const r = await cli(['seed']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The server is not running on .*\. Start it \(npm start, with the same DATA_DIR\)/);

    const worker = spawnCli(['worker'], { DATA_DIR: dataDir });
    await worker.waitFor('stderr', new RegExp(`devices-api worker running \\(embedded mode, chain ${file.chainId}, registry ${file.deployment.registry}\\)`), 120_000);
    const seeded = await cli(['seed']);
    assert.equal(seeded.code, 0, seeded.stderr);
    worker.child.kill('SIGTERM');
    assert.equal((await worker.exited).code, 0);
    assert.equal(fs.existsSync(chainPaths(dataDir).runtime), false);
  });
});
