// Fixtures for the documents tests: file bodies of each allowed type, multipart uploads in any
// field order (and raw ones for malformed or abandoned bodies), and a blob store wrapper that
// reports when a write settles.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { BlobStore, PutOptions } from '../../src/storage/blob-store.ts';
import type { TestApp } from '../helpers/app.ts';

export const MiB = 1024 * 1024;

function withMagic(magic: number[] | string, size: number): Buffer {
  const buf = randomBytes(size);
  Buffer.from(typeof magic === 'string' ? Buffer.from(magic, 'latin1') : magic).copy(buf, 0);
  return buf;
}
export const pdf = (size = 4096) => withMagic('%PDF-1.7\n', size);
export const png = (size = 4096) => withMagic([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], size);
export const jpeg = (size = 4096) => withMagic([0xff, 0xd8, 0xff, 0xe0], size);
/** A Windows executable (MZ header). */
export const exe = (size = 4096) => withMagic('MZ\x90\x00', size);

export interface FilePart {
  data: Buffer;
  /** The part's declared Content-Type ('' → none declared). */
  type?: string;
  filename?: string;
}
export type Part = [field: string, value: string | FilePart];

export interface UploadResult {
  status: number;
  json: any;
  headers: Headers;
}

/** POST /v1/documents with the parts in exactly this order. */
export async function uploadParts(t: TestApp, token: string, parts: Part[]): Promise<UploadResult> {
  const form = new FormData();
  for (const [field, value] of parts) {
    if (typeof value === 'string') form.append(field, value);
    else form.append(field, new Blob([value.data], { type: value.type ?? 'application/octet-stream' }), value.filename ?? 'upload.bin');
  }
  const res = await fetch(`${t.url}/v1/documents`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

export interface DocInput {
  data?: Buffer;
  name?: string;
  type?: string;
  userDeviceId?: string;
  declaredType?: string;
}

/** An upload the way curl -F sends one: the file first, then the text fields. */
export function uploadDoc(t: TestApp, token: string, input: DocInput = {}): Promise<UploadResult> {
  const parts: Part[] = [
    ['file', { data: input.data ?? pdf(), type: input.declaredType ?? 'application/pdf', filename: 'scan.pdf' }],
    ['name', input.name ?? 'Insurance card'],
    ['type', input.type ?? 'VehicleInsurance'],
  ];
  if (input.userDeviceId !== undefined) parts.push(['userDeviceId', input.userDeviceId]);
  return uploadParts(t, token, parts);
}

export async function download(t: TestApp, token: string, id: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}/v1/documents/${id}/download`, { headers: { authorization: `Bearer ${token}`, ...headers }, redirect: 'manual' });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

export const BOUNDARY = 'devicesapitestboundary';

export function fileHead(field = 'file', type = 'application/pdf', filename = 'scan.pdf'): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`;
}
export function textPart(field: string, value: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"\r\n\r\n${value}\r\n`;
}
export const END = `--${BOUNDARY}--\r\n`;

/** Sends a hand-built multipart body (for malformed forms); returns status and parsed body. */
export async function rawUpload(t: TestApp, token: string, body: Buffer | string, contentType = `multipart/form-data; boundary=${BOUNDARY}`) {
  const res = await fetch(`${t.url}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/**
 * Starts an upload declaring `declaredLength` bytes, sends `sent` of them, then drops the
 * connection, as a client losing its network would.
 */
export async function abandonUpload(t: TestApp, token: string, file: Buffer, sent: number): Promise<void> {
  const head = Buffer.from(textPart('name', 'abandoned') + textPart('type', 'Other') + fileHead());
  const tail = Buffer.from(`\r\n${END}`);
  const { port } = new URL(t.url);
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: Number(port),
      method: 'POST',
      path: '/v1/documents',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        'content-length': String(head.length + file.length + tail.length),
      },
    });
    req.on('error', () => resolve()); // the destroy below
    req.on('response', (res) => {
      res.resume();
      resolve();
    });
    req.write(head);
    req.write(file.subarray(0, sent), () => setImmediate(() => req.destroy()));
  });
}

export interface ObservedStore {
  store: BlobStore;
  /** Puts settled (either way) since the store was wrapped. */
  settledPuts(): number;
  /** Resolves once `n` puts have settled. */
  putsSettled(n: number): Promise<void>;
}

/** Passes everything through to `inner`, counting settled puts (not a mock: nothing is altered). */
export function observeStore(inner: BlobStore): ObservedStore {
  let settled = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const bump = () => {
    settled += 1;
    for (const w of waiters.filter((w) => settled >= w.n)) w.resolve();
  };
  const store: BlobStore = {
    ...inner,
    driver: inner.driver,
    put: (key: string, source: Readable, opts: PutOptions) => {
      const p = inner.put(key, source, opts);
      p.then(bump, bump);
      return p;
    },
    list: (prefix: string) => inner.list(prefix),
  };
  return {
    store,
    settledPuts: () => settled,
    putsSettled: (n) => (settled >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

export async function listKeys(store: BlobStore, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const b of store.list(prefix)) out.push(b.key);
  return out.sort();
}

/** Registers a vehicle for the token's user; returns its id. */
export async function createVehicle(t: TestApp, token: string): Promise<string> {
  const r = await t.request('POST', '/v1/user/devices', { token, body: { deviceDefinitionId: 'ford_bronco_2021', countryCode: 'USA' } });
  if (r.status !== 201) throw new Error(`vehicle registration failed: ${r.status} ${r.text}`);
  return r.json.userDevice.id as string;
}
