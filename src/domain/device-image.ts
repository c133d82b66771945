// Generated NFT images (API.md §5): every device and vehicle gets a distinct, deterministic
// picture without stored artwork. Only integer arithmetic and Math.sqrt (correctly rounded) are
// used, so the same inputs give the same bytes on every machine and the routes may cache freely.
import { createHash } from 'node:crypto';
import { encodePng } from './png.ts';

export interface DeviceImageInput {
  /** What makes the image distinct, e.g. the device's checksummed address. */
  seed: string;
  /** A group the device belongs to (e.g. its manufacturer): devices sharing one share a background. */
  label?: string | null;
  /** Square side in pixels; 512 by default. */
  size?: number;
}

export interface VehicleImageInput {
  make: string;
  model: string;
  year: number;
  /** What makes the image distinct, e.g. the vehicle's token id. */
  seed: string;
  size?: number;
}

export const DEFAULT_IMAGE_SIZE = 512;
const MIN_SIZE = 16;
const MAX_SIZE = 2048;

type Rgb = readonly [number, number, number];

interface Canvas {
  size: number;
  px: Uint8Array;
}

/**
 * A GitHub-style identicon: an 8×8 grid, mirrored left to right, of cells left empty or filled in
 * a main or an accent colour, centred on a pale background.
 */
export function generateDeviceImage(input: DeviceImageInput): Buffer {
  const size = checkSize(input.size);
  const h = digest('device', input.seed);
  const hue = hueOf(h, 0);
  const main = hsl(hue, 55 + (byte(h, 2) % 21), 42 + (byte(h, 3) % 12));
  const accent = hsl(hue + 150 + (byte(h, 4) % 61), 60, 55);
  const label = input.label?.trim();
  const bgHue = label ? hueOf(digest('label', label.toLowerCase()), 0) : hue;
  const canvas = newCanvas(size, hsl(bgHue, 35, 94));

  const grid = 8;
  const half = grid / 2;
  const cells = cellStates(h, 5, grid * half, [0, 0, 1, 2]);
  // A blank picture is a poor identity; with 32 fair cells it is a 2^-32 event, but cheap to rule out.
  if (!cells.some((c) => c !== 0)) cells[(grid / 2) * half - 1] = 1;

  const cell = Math.floor((size * 3) / 4 / grid);
  const margin = Math.floor((size - cell * grid) / 2);
  for (let row = 0; row < grid; row++) {
    for (let col = 0; col < half; col++) {
      const state = cells[row * half + col] ?? 0;
      if (state === 0) continue;
      const colour = state === 1 ? main : accent;
      const x = margin + col * cell;
      const y = margin + row * cell;
      // Drawn at mirrored pixel positions so the image is exactly symmetric; on an odd size the
      // inner column is a pixel wider to cover the centre pixel column instead of leaving a seam.
      const w = col === half - 1 ? cell + (size % 2) : cell;
      fillRect(canvas, x, y, w, cell, colour);
      fillRect(canvas, size - x - w, y, w, cell, colour);
    }
  }
  return encodePng({ width: size, height: size, rgba: canvas.px });
}

/**
 * A 7×7 mirrored grid of dots on a vertical gradient. The palette follows the make, so one
 * make's vehicles look related, nudged by the model; the dots follow the seed and the year.
 */
export function generateVehicleImage(input: VehicleImageInput): Buffer {
  const size = checkSize(input.size);
  const makeHue = hueOf(digest('make', input.make.trim().toLowerCase()), 0);
  const hue = makeHue + (byte(digest('model', input.model.trim().toLowerCase()), 0) % 41) - 20;
  const h = digest('vehicle', `${input.seed}\0${input.year}`);
  const top = hsl(hue, 45, 93);
  const bottom = hsl(hue, 45, 80);
  const main = hsl(hue, 62, 38);
  const accent = hsl(hue + 180, 55, 52);

  const grid = 7;
  const half = Math.ceil(grid / 2); // the middle column is its own mirror
  const cells = cellStates(h, 0, grid * half, [0, 1, 1, 2]);
  const pitch = Math.floor((size * 4) / 5 / grid);
  const margin = (size - pitch * grid) / 2;
  const radius = pitch * 0.4;

  const canvas: Canvas = { size, px: new Uint8Array(size * size * 4) };
  for (let y = 0; y < size; y++) {
    fillSpan(canvas.px, y * size, size, mix(top, bottom, y, size - 1));
    const row = Math.floor((y + 0.5 - margin) / pitch);
    if (row < 0 || row >= grid) continue;
    const dy = y + 0.5 - (margin + (row + 0.5) * pitch);
    if (Math.abs(dy) >= radius) continue;
    const w = Math.sqrt(radius * radius - dy * dy);
    for (let col = 0; col < grid; col++) {
      const state = cells[row * half + Math.min(col, grid - 1 - col)] ?? 0;
      if (state === 0) continue;
      const cx = margin + (col + 0.5) * pitch;
      paintSpan(canvas, y, cx - w, cx + w, state === 1 ? main : accent);
    }
  }
  return encodePng({ width: size, height: size, rgba: canvas.px });
}

function checkSize(size: number | undefined): number {
  const s = size ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(s) || s < MIN_SIZE || s > MAX_SIZE) {
    throw new RangeError(`image size must be an integer in ${MIN_SIZE}..${MAX_SIZE}, got ${s}`);
  }
  return s;
}

// Domain-separated so a device and a vehicle with the same seed do not share a pattern.
function digest(domain: string, value: string): Buffer {
  return createHash('sha256').update(`${domain}\0${value}`).digest();
}

function byte(h: Buffer, i: number): number {
  return h[i % h.length] ?? 0;
}

function hueOf(h: Buffer, i: number): number {
  return ((byte(h, i) << 8) | byte(h, i + 1)) % 360;
}

// `count` cells, two bits each from h[from..], mapped through `states` (so its contents set the odds).
function cellStates(h: Buffer, from: number, count: number, states: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const bits = (byte(h, from + (i >> 2)) >> ((i & 3) * 2)) & 3;
    out.push(states[bits] ?? 0);
  }
  return out;
}

// HSL (degrees, percent, percent) to 8-bit sRGB, in integer-friendly arithmetic.
function hsl(hue: number, sat: number, light: number): Rgb {
  const hh = (((hue % 360) + 360) % 360) / 60;
  const s = sat / 100;
  const l = light / 100;
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] =
    hh < 1 ? [c, x, 0] : hh < 2 ? [x, c, 0] : hh < 3 ? [0, c, x] : hh < 4 ? [0, x, c] : hh < 5 ? [x, 0, c] : [c, 0, x];
  return [to8(r + m), to8(g + m), to8(b + m)];
}

function to8(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v * 255)));
}

function mix(a: Rgb, b: Rgb, num: number, den: number): Rgb {
  const t = den === 0 ? 0 : num / den;
  return [Math.round(a[0] + (b[0] - a[0]) * t), Math.round(a[1] + (b[1] - a[1]) * t), Math.round(a[2] + (b[2] - a[2]) * t)];
}

function newCanvas(size: number, background: Rgb): Canvas {
  const px = new Uint8Array(size * size * 4);
  fillSpan(px, 0, size * size, background);
  return { size, px };
}

// Fills `count` opaque pixels from pixel index `start` by doubling copies, not pixel by pixel.
function fillSpan(px: Uint8Array, start: number, count: number, [r, g, b]: Rgb): void {
  if (count <= 0) return;
  const at = start * 4;
  px[at] = r;
  px[at + 1] = g;
  px[at + 2] = b;
  px[at + 3] = 255;
  const end = at + count * 4;
  for (let filled = 4; at + filled < end; filled *= 2) {
    px.copyWithin(at + filled, at, Math.min(at + filled, end - filled));
  }
}

function fillRect(c: Canvas, x: number, y: number, w: number, h: number, colour: Rgb): void {
  const rowBytes = w * 4;
  const first = (y * c.size + x) * 4;
  fillSpan(c.px, y * c.size + x, w, colour);
  for (let j = 1; j < h; j++) c.px.copyWithin(first + j * c.size * 4, first, first + rowBytes);
}

// Paints the horizontal extent [left, right) of row y, blending the two edge pixels by coverage
// so the dots' sides are smooth.
function paintSpan(c: Canvas, y: number, left: number, right: number, colour: Rgb): void {
  const x0 = Math.max(0, Math.floor(left));
  const x1 = Math.min(c.size - 1, Math.ceil(right) - 1);
  for (let x = x0; x <= x1; x++) {
    const coverage = Math.min(x + 1, right) - Math.max(x, left);
    if (coverage <= 0) continue;
    const i = (y * c.size + x) * 4;
    if (coverage >= 1) {
      c.px[i] = colour[0];
      c.px[i + 1] = colour[1];
      c.px[i + 2] = colour[2];
    } else {
      for (let k = 0; k < 3; k++) {
        const under = c.px[i + k] ?? 0;
        c.px[i + k] = Math.round(under + ((colour[k] ?? 0) - under) * coverage);
      }
    }
  }
}
