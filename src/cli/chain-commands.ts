// The chain CLI commands: `devices mint`, `seed` and `dev sign`. Only their definitions live
// here; what they do (chain-actions.ts, with viem) loads when one runs, so `--help` stays fast.
import type { Command } from 'commander';
import { DEMO_DEVICES } from '../chain/demo-devices.ts';

const actions = () => import('./chain-actions.ts');

export function registerChainCommands(program: Command): void {
  const devices = program.command('devices').description('Aftermarket devices on the registry');
  devices
    .command('mint')
    .description('Mint aftermarket device NFTs as their manufacturer (embedded: talks to the running server\'s chain)')
    .requiredOption('--manufacturer <name>', 'manufacturer node name, e.g. AutoPi or Macaron')
    .option('--serial <serial>', 'one device: its serial')
    .option('--address <0x…>', "one device: its key's address (the device signs claims with it)")
    .option('--dev-key', 'derive the device key from the serial with the public dev mnemonic (development only; `dev sign` can then sign for it)')
    .option('--csv <file>', 'a batch: "serial,address" lines (- for stdin); with --dev-key, serials only')
    .action(async (opts: import('./chain-actions.ts').MintCliOptions) => (await actions()).mint(opts));

  program
    .command('seed')
    .description(`Mint the demo devices (${DEMO_DEVICES.map((d) => d.serial).join(', ')}) with dev keys; idempotent (development only)`)
    .action(async () => (await actions()).seed());

  const dev = program.command('dev').description('Development helpers (embedded mode only)');
  dev
    .command('sign <payload>')
    .description('Sign an EIP-712 payload (file, or - for stdin) with a demo device\'s key; prints the 0x signature')
    .requiredOption('--serial <serial>', 'the device, minted with --dev-key or by seed')
    .action(async (payloadPath: string, opts: { serial: string }) => (await actions()).sign(payloadPath, opts));
}
