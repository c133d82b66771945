// Test-only PNG reader, written independently of src/domain/png.ts (its own CRC-32 table) so the
// encoder's output is checked against the format rather than against itself.
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  rgba: Uint8Array;
  chunkTypes: string[];
  ihdr: Buffer;
  /** The filter type of each scanline. */
  filters: number[];
}

export const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32Reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Decodes 8-bit RGBA, non-interlaced PNGs using filters None and Up; throws on anything else. */
export function decodePng(png: Buffer): DecodedPng {
  if (!SIGNATURE.every((b, i) => png[i] === b)) throw new Error('bad signature');
  const chunkTypes: string[] = [];
  const idat: Buffer[] = [];
  let ihdr: Buffer | undefined;
  let at = 8;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    const crc = png.readUInt32BE(at + 8 + len);
    if (crc !== crc32Reference(png.subarray(at + 4, at + 8 + len))) throw new Error(`bad CRC in ${type}`);
    chunkTypes.push(type);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  if (at !== png.length) throw new Error('trailing bytes');
  if (ihdr === undefined) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  if (ihdr[8] !== 8 || ihdr[9] !== 6 || ihdr[10] !== 0 || ihdr[11] !== 0 || ihdr[12] !== 0) {
    throw new Error('unsupported IHDR');
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  if (raw.length !== (stride + 1) * height) throw new Error('wrong IDAT size');
  const rgba = new Uint8Array(stride * height);
  const filters: number[] = [];
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? -1;
    filters.push(filter);
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const above = y > 0 ? (rgba[(y - 1) * stride + x] ?? 0) : 0;
      const v = row[x] ?? 0;
      if (filter === 0) rgba[y * stride + x] = v;
      else if (filter === 2) rgba[y * stride + x] = (v + above) & 0xff;
      else throw new Error(`unsupported filter ${filter}`);
    }
  }
  return { width, height, rgba, chunkTypes, ihdr, filters };
}
