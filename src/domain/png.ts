// A minimal PNG encoder (8-bit RGBA, no interlace) for generated NFT images, so no image library
// is needed. Format: https://www.w3.org/TR/png-3/
import { crc32, deflateSync } from 'node:zlib';

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major, 4 bytes per pixel (R, G, B, A), no padding between rows. */
  rgba: Uint8Array;
}

export const PNG_SIGNATURE: Buffer = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

// The spec caps both dimensions at 2^31-1; far lower here because the whole image is in memory.
const MAX_DIMENSION = 16384;
const FILTER_UP = 2;

export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  for (const [what, n] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_DIMENSION) {
      throw new RangeError(`PNG ${what} must be an integer in 1..${MAX_DIMENSION}, got ${n}`);
    }
  }
  const stride = width * 4;
  if (rgba.length !== stride * height) {
    throw new RangeError(`expected ${stride * height} RGBA bytes for ${width}x${height}, got ${rgba.length}`);
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  // bytes 10..12 stay 0: deflate compression, adaptive filtering, no interlace

  // Every scanline is prefixed by its filter type. A row equal to the one above is sent as
  // filter 2 (Up), whose bytes are then all zero (already, in a fresh buffer): generated images
  // are mostly such rows, and deflate runs several times faster over zeros. Other rows: 0 (None).
  const raw = Buffer.alloc((stride + 1) * height);
  const src = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
  for (let y = 0; y < height; y++) {
    const at = y * (stride + 1);
    const start = y * stride;
    if (y > 0 && src.compare(src, start - stride, start, start, start + stride) === 0) {
      raw[at] = FILTER_UP;
    } else {
      src.copy(raw, at + 1, start, start + stride);
    }
  }

  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// length, type, data, then the CRC-32 of type and data
function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}
