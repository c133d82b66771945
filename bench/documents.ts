// The documents-transfer scenario (run by bench/run.ts once per mode, against the running
// service). First 4 uploads of a 50 MiB PDF run at once while the service's resident memory is
// watched (/proc/<pid>/status: VmHWM reset through clear_refs, VmRSS sampled as well). Then
// rounds of: a plain Node stream copy of the same file into the filesystem the blob store writes
// to, an upload (multipart POST over loopback HTTP), a download (GET …/download) and a delete.
// Interleaving means a machine that gets busier slows all three alike; medians are reported.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Mode } from './scenarios.ts';
import type { ProfileWindow } from './profile.ts';

export const DOCUMENTS_TRANSFER = 'documents-transfer';
export const TRANSFER_FILE_BYTES = 50 * 1024 * 1024;
/** DOCUMENT_MAX_BYTES for the bench's service: room for the 50 MiB file (the default is 10 MiB). */
export const TRANSFER_MAX_BYTES = 64 * 1024 * 1024;
const CONCURRENT_UPLOADS = 4;
const MIN_THROUGHPUT_RATIO = 0.5;
const MAX_RSS_GROWTH_MIB = 64;
const MiB = 1024 * 1024;
// The client side reads the file in big chunks: the driver shares the machine with the service,
// and its own CPU should go to the service.
const CLIENT_CHUNK = MiB;

export interface TransferContext {
  mode: Mode;
  baseUrl: string;
  /** A user of its own, so uploads never show in the documents-list scenario's user's list. */
  token: string;
  serverPid: number;
  /** The 50 MiB source file (makeTransferFile). */
  file: string;
  /** Where the reference copy goes: on the filesystem the service's blob store writes to. */
  copyDir: string;
  warmupSeconds: number;
  durationSeconds: number;
  /** CPU time of the server process so far, in µs, or null without /proc. */
  serverCpuUs: () => number | null;
}

export interface TransferRow {
  mode: Mode;
  name: string;
  /** Median MiB/s of one transfer (all of them together for the concurrent run). */
  mibPerSec: number;
  /** Versus the stream copy's median; null for the copy itself. */
  ratio: number | null;
  /** CPU per transfer, ms: the service's for uploads and downloads, the driver's own for the copy. */
  cpuMs: number | null;
  rounds: number;
  rss?: { baselineMiB: number; peakMiB: number; growthMiB: number };
  target?: string;
  met?: boolean;
}

export interface TransferResult {
  rows: TransferRow[];
  /** For BENCH_PROFILE: when each kind of transfer ran. */
  windows: { name: string; window: ProfileWindow }[];
  notes: string[];
}

/** Writes a PDF-typed file of TRANSFER_FILE_BYTES (the service sniffs the type from the first bytes). */
export function makeTransferFile(dir: string): string {
  const file = path.join(dir, 'documents-transfer.pdf');
  const fd = fs.openSync(file, 'w');
  try {
    const header = Buffer.from('%PDF-1.7\n');
    fs.writeSync(fd, header);
    let left = TRANSFER_FILE_BYTES - header.length;
    while (left > 0) left -= fs.writeSync(fd, randomBytes(Math.min(left, 4 * MiB)));
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runDocumentTransfer(ctx: TransferContext): Promise<TransferResult> {
  const samples = { copy: [] as number[], upload: [] as number[], download: [] as number[] };
  const cpu = { copy: 0, upload: 0, download: 0 };
  const windows: TransferResult['windows'] = [];
  const notes: string[] = [];

  const round = async (record: boolean) => {
    const copied = await measured(ownCpuUs, () => streamCopy(ctx.file, path.join(ctx.copyDir, 'copy.bin')));
    const up = await measured(ctx.serverCpuUs, () => upload(ctx));
    const down = await measured(ctx.serverCpuUs, () => download(ctx, up.result));
    await remove(ctx, up.result.id);
    if (!record) return;
    samples.copy.push(copied.ms);
    samples.upload.push(up.ms);
    samples.download.push(down.ms);
    cpu.copy += copied.cpuUs ?? NaN;
    cpu.upload += up.cpuUs ?? NaN;
    cpu.download += down.cpuUs ?? NaN;
  };

  process.stderr.write(`  ${DOCUMENTS_TRANSFER}: ${CONCURRENT_UPLOADS} uploads at once, ${ctx.warmupSeconds ? `warm-up ${ctx.warmupSeconds} s, ` : ''}measuring ${ctx.durationSeconds} s…`);
  // First, while the service has not yet taken in a big upload: memory that earlier uploads left
  // allocated would otherwise hide part of the growth.
  const concurrentFrom = nowUs();
  const concurrent = await concurrentUploads(ctx, notes);
  windows.push({ name: `${DOCUMENTS_TRANSFER} (${CONCURRENT_UPLOADS} uploads at once)`, window: { fromUs: concurrentFrom, toUs: nowUs() } });
  if (ctx.warmupSeconds > 0) {
    const until = nowUs() + ctx.warmupSeconds * 1e6;
    do await round(false);
    while (nowUs() < until);
  }
  const fromUs = nowUs();
  const until = fromUs + ctx.durationSeconds * 1e6;
  // At least 3 rounds, so a median means something.
  while (samples.copy.length < 3 || nowUs() < until) await round(true);
  windows.push({ name: `${DOCUMENTS_TRANSFER} (copy, upload, download rounds)`, window: { fromUs, toUs: nowUs() } });

  const rounds = samples.copy.length;
  const copyRate = rate(median(samples.copy));
  const perOpMs = (us: number) => (Number.isFinite(us) ? us / rounds / 1000 : null);
  const row = (name: string, ms: number[], cpuUs: number): TransferRow => {
    const mibPerSec = rate(median(ms));
    const ratio = mibPerSec / copyRate;
    return { mode: ctx.mode, name, mibPerSec, ratio, cpuMs: perOpMs(cpuUs), rounds, target: `≥ ${MIN_THROUGHPUT_RATIO * 100}%`, met: ratio >= MIN_THROUGHPUT_RATIO };
  };
  const rows: TransferRow[] = [
    { mode: ctx.mode, name: 'stream copy (reference)', mibPerSec: copyRate, ratio: null, cpuMs: perOpMs(cpu.copy), rounds },
    row('upload 50 MiB', samples.upload, cpu.upload),
    row('download 50 MiB', samples.download, cpu.download),
    concurrent,
  ];
  process.stderr.write(` upload ${rows[1]!.mibPerSec.toFixed(0)} MiB/s, download ${rows[2]!.mibPerSec.toFixed(0)} MiB/s, copy ${copyRate.toFixed(0)} MiB/s\n`);
  return { rows, windows, notes };
}

/** 4 uploads at once; the row's MiB/s is their combined rate, its rss the server's growth. */
async function concurrentUploads(ctx: TransferContext, notes: string[]): Promise<TransferRow> {
  const resetPeak = resetHighWaterMark(ctx.serverPid);
  if (!resetPeak) notes.push('could not reset VmHWM (/proc/<pid>/clear_refs); the peak is from VmRSS samples every 5 ms');
  const baseline = memoryKiB(ctx.serverPid).rss;
  let sampledPeak = baseline;
  const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, memoryKiB(ctx.serverPid).rss)), 5);
  const cpu0 = ctx.serverCpuUs();
  const t0 = nowUs();
  let results: UploadResult[];
  try {
    results = await Promise.all(Array.from({ length: CONCURRENT_UPLOADS }, () => upload(ctx)));
  } finally {
    clearInterval(sampler);
  }
  const seconds = (nowUs() - t0) / 1e6;
  const cpu1 = ctx.serverCpuUs();
  const after = memoryKiB(ctx.serverPid);
  const peak = Math.max(sampledPeak, after.rss, resetPeak ? after.hwm : 0);
  for (const r of results) await remove(ctx, r.id);
  const growthMiB = (peak - baseline) / 1024;
  return {
    mode: ctx.mode,
    name: `${CONCURRENT_UPLOADS} uploads at once`,
    mibPerSec: (CONCURRENT_UPLOADS * TRANSFER_FILE_BYTES) / MiB / seconds,
    ratio: null,
    cpuMs: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / CONCURRENT_UPLOADS / 1000 : null,
    rounds: 1,
    rss: { baselineMiB: baseline / 1024, peakMiB: peak / 1024, growthMiB },
    target: `RSS growth < ${MAX_RSS_GROWTH_MIB} MiB`,
    met: growthMiB < MAX_RSS_GROWTH_MIB,
  };
}

// ---------------------------------------------------------------------------------------------
// The transfers

async function streamCopy(from: string, to: string): Promise<void> {
  await pipeline(fs.createReadStream(from), fs.createWriteStream(to));
  fs.rmSync(to);
}

interface UploadResult {
  id: string;
  sha256: string;
}

/** One multipart POST /v1/documents of the file: fields first, then the file part, streamed. */
async function upload(ctx: TransferContext): Promise<UploadResult> {
  const boundary = `devices-api-bench-${randomBytes(12).toString('hex')}`;
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    field('name', 'bench transfer') +
      field('type', 'Other') +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = http.request(`${ctx.baseUrl}/v1/documents`, {
    method: 'POST',
    agent: false,
    headers: {
      authorization: `Bearer ${ctx.token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + TRANSFER_FILE_BYTES + tail.length),
    },
  });
  const response = responseOf(req);
  const file = ctx.file;
  await pipeline(async function* () {
    yield head;
    yield* fs.createReadStream(file, { highWaterMark: CLIENT_CHUNK });
    yield tail;
  }, req);
  const res = await response;
  const text = await readText(res);
  if (res.statusCode !== 201) throw new Error(`upload answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const doc = JSON.parse(text) as { id: string; sha256: string; size: number };
  if (doc.size !== TRANSFER_FILE_BYTES) throw new Error(`upload stored ${doc.size} bytes, sent ${TRANSFER_FILE_BYTES}`);
  return { id: doc.id, sha256: doc.sha256 };
}

/** GET …/download, every byte read and counted (not kept). */
async function download(ctx: TransferContext, doc: UploadResult): Promise<void> {
  const req = http.request(`${ctx.baseUrl}/v1/documents/${doc.id}/download`, { agent: false, headers: { authorization: `Bearer ${ctx.token}` } });
  const response = responseOf(req);
  req.end();
  const res = await response;
  if (res.statusCode !== 200) throw new Error(`download answered ${res.statusCode}: ${(await readText(res)).slice(0, 300)}`);
  if (res.headers.etag !== `"${doc.sha256}"`) throw new Error(`download ETag ${res.headers.etag} is not the uploaded SHA-256 ${doc.sha256}`);
  let bytes = 0;
  for await (const chunk of res) bytes += (chunk as Buffer).length;
  if (bytes !== TRANSFER_FILE_BYTES) throw new Error(`download gave ${bytes} bytes, expected ${TRANSFER_FILE_BYTES}`);
}

async function remove(ctx: TransferContext, id: string): Promise<void> {
  const req = http.request(`${ctx.baseUrl}/v1/documents/${id}`, { method: 'DELETE', agent: false, headers: { authorization: `Bearer ${ctx.token}` } });
  const response = responseOf(req);
  req.end();
  const res = await response;
  const text = await readText(res);
  if (res.statusCode !== 204) throw new Error(`delete answered ${res.statusCode}: ${text.slice(0, 300)}`);
}

function responseOf(req: http.ClientRequest): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
}

async function readText(res: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) text += (chunk as Buffer).toString();
  return text;
}

// ---------------------------------------------------------------------------------------------
// Measuring

/** Wall-clock time of `fn` and the CPU `cpuUs` counted meanwhile (null without /proc). */
async function measured<T>(cpuUs: () => number | null, fn: () => Promise<T>): Promise<{ ms: number; cpuUs: number | null; result: T }> {
  const c0 = cpuUs();
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c1 = cpuUs();
  return { ms, cpuUs: c0 !== null && c1 !== null ? c1 - c0 : null, result };
}

/** This process's CPU (all threads, so the copy's thread-pool reads and writes count), µs. */
function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

const rate = (ms: number) => TRANSFER_FILE_BYTES / MiB / (ms / 1000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** VmRSS and VmHWM of a process, in KiB. */
function memoryKiB(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel refuses. */
function resetHighWaterMark(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Output

export function transferTable(rows: TransferRow[]): string {
  const head = ['mode', 'transfer', 'MiB/s', 'vs stream copy', 'CPU ms/transfer', 'RSS baseline → peak (growth)', 'rounds', 'target', 'met'];
  const body = rows.map((r) => [
    r.mode,
    r.name,
    r.mibPerSec.toFixed(0),
    r.ratio === null ? '—' : `${(r.ratio * 100).toFixed(1)}%`,
    r.cpuMs === null ? '—' : r.cpuMs.toFixed(0),
    r.rss ? `${r.rss.baselineMiB.toFixed(0)} → ${r.rss.peakMiB.toFixed(0)} MiB (+${r.rss.growthMiB.toFixed(1)})` : '—',
    String(r.rounds),
    r.target ?? '—',
    r.met === undefined ? '—' : r.met ? 'yes' : 'NO',
  ]);
  const numeric = (i: number) => i >= 2 && i <= 6;
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...body.map(line)].join('\n');
}
