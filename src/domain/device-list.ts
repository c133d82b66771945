// A manufacturer's list of devices to mint: `serial,address` lines (CSV). Pure parsing, with
// every problem reported by line so a whole file can be fixed in one go before anything is sent.
import type { Address } from 'viem';
import { parseAddress } from './address.ts';
import { normaliseSerial } from './serial.ts';

export interface DeviceLine {
  serial: string;
  /** Absent when the address comes from elsewhere (a dev key derived from the serial). */
  address: Address | undefined;
}

export type DeviceListResult = { ok: true; devices: DeviceLine[] } | { ok: false; problems: string[] };

/**
 * Blank lines and `#` comments are skipped, as is a first line `serial,address` (any case).
 * `addressRequired`: every line needs an address; otherwise lines must have none (the caller
 * derives it). Duplicate serials or addresses are problems: the chain would mint both.
 */
export function parseDeviceList(text: string, opts: { addressRequired: boolean }): DeviceListResult {
  const problems: string[] = [];
  const devices: DeviceLine[] = [];
  const seenSerials = new Map<string, number>();
  const seenAddresses = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    if (devices.length === 0 && problems.length === 0 && /^serial\s*(,\s*address\s*)?$/i.test(line)) return;
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length > 2) {
      problems.push(`line ${n}: expected "serial,address", got ${cells.length} columns`);
      return;
    }
    const serial = normaliseSerial(cells[0]);
    if (serial === null) {
      problems.push(`line ${n}: "${cells[0]}" is not a valid serial (1–128 characters, no control characters)`);
      return;
    }
    const rawAddress = cells[1] ?? '';
    let address: Address | undefined;
    if (opts.addressRequired) {
      if (!rawAddress) {
        problems.push(`line ${n}: serial ${serial} has no address (or use --dev-key)`);
        return;
      }
      const parsed = parseAddress(rawAddress);
      if (!parsed) {
        problems.push(`line ${n}: "${rawAddress}" is not an Ethereum address`);
        return;
      }
      address = parsed;
    } else if (rawAddress) {
      problems.push(`line ${n}: with --dev-key the address comes from the serial; remove "${rawAddress}"`);
      return;
    }
    const dupSerial = seenSerials.get(serial);
    if (dupSerial !== undefined) problems.push(`line ${n}: serial ${serial} already on line ${dupSerial}`);
    else seenSerials.set(serial, n);
    if (address) {
      const key = address.toLowerCase();
      const dupAddress = seenAddresses.get(key);
      if (dupAddress !== undefined) problems.push(`line ${n}: address ${address} already on line ${dupAddress}`);
      else seenAddresses.set(key, n);
    }
    devices.push({ serial, address });
  });
  if (!problems.length && !devices.length) problems.push('no devices in the list');
  return problems.length ? { ok: false, problems } : { ok: true, devices };
}
