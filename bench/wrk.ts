// Runs wrk once and returns its numbers. Every run gets a generated Lua script that sets the
// request (method, headers, body — built once by wrk, not per request) and a done() hook that
// prints the exact summary as one JSON line, so nothing depends on wrk's human-readable units.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface WrkRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * Appends `cursor=<27 base62 characters>` with a value of its own to every request: above any
   * real KSUID (so a list answers from the top, as without a cursor), and a different URL each
   * time, so the service's response cache never answers and every request does the full work.
   */
  distinctCursor?: boolean;
}

export interface WrkSettings {
  threads: number;
  connections: number;
  durationSeconds: number;
  timeoutSeconds: number;
}

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  rps: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number };
  errors: { connect: number; read: number; write: number; timeout: number; /** responses with status >= 400 */ status: number };
  /** wrk's own text output (with --latency), for BENCH_VERBOSE. */
  text: string;
}

const running = new Set<ChildProcess>();

/** Stops the wrk runs in progress (the driver's cleanup on Ctrl-C). */
export function stopWrk(): void {
  for (const child of running) child.kill('SIGTERM');
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;

export function luaScript(req: WrkRequest): string {
  const lines = [`wrk.method = ${luaString(req.method)}`];
  for (const [k, v] of Object.entries(req.headers)) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`);
  if (req.body !== undefined) lines.push(`wrk.body = ${luaString(req.body)}`);
  if (req.distinctCursor) {
    // Each thread has its own Lua state: setup() numbers them so their cursors never meet.
    const sep = req.url.includes('?') ? '&' : '?';
    lines.push(
      'local threads = 0',
      'setup = function(thread) threads = threads + 1; thread:set("tid", threads) end',
      'local n = 0',
      'request = function()',
      '  n = n + 1',
      `  return wrk.format(nil, wrk.path .. "${sep}cursor=zzzzzzzzzzzzzzzzz" .. string.format("%02d%08d", tid % 100, n % 100000000))`,
      'end',
    );
  }
  lines.push(
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'BENCH_RESULT {"requests":%.0f,"duration_us":%.0f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f,"mean":%.1f,' +
      '"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\\n\',',
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),',
    '    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))',
    'end',
  );
  return lines.join('\n') + '\n';
}

export async function runWrk(req: WrkRequest, settings: WrkSettings, scratchDir: string): Promise<WrkResult> {
  const script = path.join(scratchDir, `wrk-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.lua`);
  fs.writeFileSync(script, luaScript(req));
  const args = [
    `-t${settings.threads}`,
    `-c${settings.connections}`,
    `-d${settings.durationSeconds}s`,
    `--timeout`,
    `${settings.timeoutSeconds}s`,
    '--latency',
    '-s',
    script,
    req.url,
  ];
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(child);
      child.once('exit', () => running.delete(child));
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout, stderr }));
    });
    const m = /^BENCH_RESULT (\{.*\})$/m.exec(stdout);
    if (code !== 0 || !m?.[1]) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stdout}${stderr}`);
    const j = JSON.parse(m[1]) as Record<string, number>;
    const durationSeconds = j.duration_us! / 1e6;
    return {
      requests: j.requests!,
      durationSeconds,
      rps: j.requests! / durationSeconds,
      latencyUs: { p50: j.p50!, p90: j.p90!, p99: j.p99!, max: j.max!, mean: j.mean! },
      errors: { connect: j.connect!, read: j.read!, write: j.write!, timeout: j.timeout!, status: j.status! },
      text: stdout.replace(/^BENCH_RESULT .*\n?/m, ''),
    };
  } finally {
    fs.rmSync(script, { force: true });
  }
}
