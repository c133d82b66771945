// What the chain CLI commands (chain-commands.ts) do, loaded only when one of them runs: viem and
// the chain client are too heavy to load for `--help`. Results go to stdout (JSON, or the bare
// signature), progress and errors to stderr, so scripts can pipe the output.
import fs from 'node:fs';
import { BaseError } from 'viem';
import { loadConfig, type Config } from '../config.ts';
import { parseAddress } from '../domain/address.ts';
import { normaliseSerial } from '../domain/serial.ts';
import { parseDeviceList, type DeviceLine } from '../domain/device-list.ts';
import { createDevKeyDeriver, DEMO_DEVICES } from '../chain/dev-keys.ts';
import { readChainFile } from '../chain/embedded.ts';
import { dimoRegistryAbi } from '../chain/abi/index.ts';
import type { DeviceToMint } from '../chain/deploy.ts';
import { CliError, openCliChain } from './chain-access.ts';
import { mintDevices, type MintedDevice } from './devices.ts';
import { devSign } from './dev-sign.ts';
import { cliJson } from './json-output.ts';

function configOrThrow(): Config {
  const r = loadConfig(process.env);
  if (!r.ok) throw new CliError(r.problems.map((p) => `config error: ${p}`).join('\n'));
  return r.config;
}

function refuseInProduction(config: Config, what: string): void {
  if (config.mode === 'production') throw new CliError(`${what} exists only in embedded (development) mode: its keys derive from a public mnemonic.`);
}

function readInput(pathOrDash: string): string {
  try {
    return fs.readFileSync(pathOrDash === '-' ? 0 : pathOrDash, 'utf8');
  } catch (e: any) {
    throw new CliError(`cannot read ${pathOrDash === '-' ? 'stdin' : pathOrDash}: ${e.code ?? e.message}`);
  }
}

function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (e) {
    const msg = e instanceof CliError ? e.message : e instanceof BaseError ? e.shortMessage : e instanceof Error ? e.message : String(e);
    process.stderr.write(`error: ${msg}\n`);
    process.exitCode = 1;
  }
}

export interface MintCliOptions {
  manufacturer: string;
  serial?: string;
  address?: string;
  devKey?: boolean;
  csv?: string;
}

/** Turns the options into the list to mint; every input problem is a CliError before any RPC. */
function devicesFromOptions(o: MintCliOptions): DeviceToMint[] {
  if ((o.serial === undefined) === (o.csv === undefined)) throw new CliError('give either --serial (one device) or --csv <file> (a batch)');
  let lines: DeviceLine[];
  if (o.serial !== undefined) {
    if ((o.address === undefined) === !o.devKey) throw new CliError('give the device\'s key address with --address 0x…, or --dev-key to derive a demo key from the serial');
    const serial = normaliseSerial(o.serial);
    if (serial === null) throw new CliError(`"${o.serial}" is not a valid serial (1–128 characters, no control characters)`);
    let address;
    if (o.address !== undefined) {
      address = parseAddress(o.address);
      if (!address) throw new CliError(`--address "${o.address}" is not an Ethereum address`);
    }
    lines = [{ serial, address: address ?? undefined }];
  } else {
    if (o.address !== undefined) throw new CliError('--address goes with --serial; in a --csv file each line carries its address');
    const parsed = parseDeviceList(readInput(o.csv!), { addressRequired: !o.devKey });
    if (!parsed.ok) throw new CliError(`${o.csv}:\n  ${parsed.problems.join('\n  ')}`);
    lines = parsed.devices;
  }
  const keys = o.devKey ? createDevKeyDeriver() : undefined;
  return lines.map((l) => ({ serial: l.serial, address: l.address ?? keys!.accountFor(l.serial).address }));
}

export function mint(opts: MintCliOptions): Promise<void> {
  return run(async () => {
    const config = configOrThrow();
    if (opts.devKey) refuseInProduction(config, '--dev-key');
    const list = devicesFromOptions(opts);
    const chain = await openCliChain(config);
    progress(`minting ${list.length} ${opts.manufacturer} device(s) on chain ${chain.chain.id}…`);
    const summary = await mintDevices({ chain, manufacturer: opts.manufacturer, devices: list, progress });
    const { existing: _none, ...out } = summary;
    process.stdout.write(cliJson(out) + '\n');
  });
}

export function seed(): Promise<void> {
  return run(async () => {
    const config = configOrThrow();
    refuseInProduction(config, 'seed');
    const chain = await openCliChain(config);
    const keys = createDevKeyDeriver();
    const out: (MintedDevice & { manufacturer: string; status: 'minted' | 'existing' })[] = [];
    for (const manufacturer of [...new Set(DEMO_DEVICES.map((d) => d.manufacturer))]) {
      const devices = DEMO_DEVICES.filter((d) => d.manufacturer === manufacturer).map((d) => ({ serial: d.serial, address: keys.accountFor(d.serial).address }));
      const r = await mintDevices({ chain, manufacturer, devices, existing: 'skip', progress });
      for (const d of r.existing) out.push({ manufacturer, ...d, status: 'existing' });
      for (const d of r.devices) out.push({ manufacturer, ...d, status: 'minted' });
    }
    process.stdout.write(cliJson({ chainId: chain.chain.id, devices: out }) + '\n');
  });
}

export function sign(payloadPath: string, opts: { serial: string }): Promise<void> {
  return run(async () => {
    const config = configOrThrow();
    refuseInProduction(config, 'dev sign');
    const chainFile = config.chain.kind === 'embedded' ? readChainFile(config.dataDir) : undefined;
    const signature = await devSign({
      serial: opts.serial,
      payloadText: readInput(payloadPath),
      chainFile,
      deviceAddress: async (node) => {
        const chain = await openCliChain(config);
        return chain.publicClient.readContract({
          address: chain.deployment.registry,
          abi: dimoRegistryAbi,
          functionName: 'getAftermarketDeviceAddressById',
          args: [node],
        });
      },
    });
    process.stdout.write(signature + '\n');
  });
}
