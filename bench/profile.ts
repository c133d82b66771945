// Summarizes a V8 .cpuprofile (node --cpu-prof): where the busy (non-idle) time went, by package
// or source file (self time), and the top functions by self and by inclusive time.
// A time window (microseconds on the monotonic clock that process.hrtime.bigint() also reads on
// Linux) restricts the summary to the samples taken inside it, e.g. one scenario's measured run.
// Usage: node --import tsx bench/profile.ts <file.cpuprofile> [topN]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortUrl(url: string, root: string): string {
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (u.startsWith(root)) u = path.relative(root, u);
  return u;
}

/** node_modules/<pkg> (scoped too), node:<builtin>, src/<dir>/<file>, or the special V8 buckets. */
function bucket(frame: CallFrame, root: string): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const u = shortUrl(frame.url, root);
  if (!u) return '(native / V8 builtins)';
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (u.startsWith('node:')) return u;
  return u;
}

export function summarizeProfile(file: string, root: string, top = 25, window?: ProfileWindow): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url, root)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;

  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const buckets = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let t = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    const node = byId.get(prof.samples[i]!);
    if (!node) continue;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(key(node), (self.get(key(node)) ?? 0) + dt);
    const b = bucket(node.callFrame, root);
    buckets.set(b, (buckets.get(b) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const busy = total - idle;
  if (busy <= 0) return 'no busy samples in the profile' + (window ? ' inside the window' : '');
  const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${k}`)
      .join('\n');
  return [
    `profiled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}%); percentages are of busy time`,
    `self time by package / file:`,
    list(buckets, top),
    `top functions by self time:`,
    list(self, top),
    `top functions by inclusive time:`,
    list(incl, top),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/profile.ts <file.cpuprofile> [topN]\n');
    process.exit(1);
  }
  process.stdout.write(summarizeProfile(file, process.cwd(), Number(process.argv[3] ?? 25)) + '\n');
}
