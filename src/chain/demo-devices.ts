// The demo devices of embedded mode, apart from their keys (dev-keys.ts) so that describing
// `seed` in `--help` loads no chain code.

/** The demo devices `seed` mints: manufacturer and serial. */
export const DEMO_DEVICES: readonly { manufacturer: string; serial: string }[] = [
  { manufacturer: 'AutoPi', serial: 'demo-autopi-1' },
  { manufacturer: 'AutoPi', serial: 'demo-autopi-2' },
  { manufacturer: 'AutoPi', serial: 'demo-autopi-3' },
  { manufacturer: 'Macaron', serial: 'demo-macaron-1' },
  { manufacturer: 'Macaron', serial: 'demo-macaron-2' },
];
