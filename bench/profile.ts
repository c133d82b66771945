// Summarizes a V8 .cpuprofile (node --cpu-prof): where the busy (non-idle) time went.
//  - by owner: each sample is charged to the nearest package (npm:<name>) or project file on its
//    stack, so natives, V8 builtins and Node's internals count for whoever called them; socket-write syscalls are
//    listed apart and split by who wrote (npm:pg = queries to PostgreSQL, npm:fastify = responses).
//    The V8 sampler is wall-clock based, so on a busy machine a thread preempted inside a syscall
//    (typically the write that wakes PostgreSQL) is charged to that syscall.
//  - the top functions by self time and by inclusive time.
// A time window (microseconds on the monotonic clock that process.hrtime.bigint() also reads on
// Linux) restricts the summary to the samples taken inside it, e.g. one scenario's measured run.
// Usage: node --import tsx bench/profile.ts <file.cpuprofile> [topN] [fromUs toUs]
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

const SYSCALL_WRITES = new Set(['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String', 'writeAsciiString']);

function shortUrl(url: string, root: string): string {
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (u.startsWith(root)) u = path.relative(root, u);
  return u;
}

/** npm:<pkg> (scoped too), node:<builtin>, or a project file; null for natives and V8 builtins. */
function owner(frame: CallFrame, root: string): string | null {
  const u = shortUrl(frame.url, root);
  if (!u) return null;
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return u;
}

export function summarizeProfile(file: string, root: string, top = 25, window?: ProfileWindow): string {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url, root)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const owners = new Map<string, number>();
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
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idle += dt;
      continue;
    }
    add(self, key(node), dt);

    if (fn === '(garbage collector)' || fn === '(program)') add(owners, fn, dt);
    else {
      // Node's own modules (streams, sockets, WebCrypto jobs) are charged to the package that
      // called them; only work with no package on the stack (HTTP parsing) stays with node:*.
      let o: string | null = null;
      let core: string | null = null;
      for (let id: number | undefined = node.id; o === null && id !== undefined; id = parent.get(id)) {
        const c = owner(byId.get(id)!.callFrame, root);
        if (c?.startsWith('node:')) core ??= c;
        else if (c !== null) o = c;
      }
      o ??= core;
      add(owners, SYSCALL_WRITES.has(fn) ? `socket write syscall, by ${o ?? '?'}` : (o ?? '(native, no JS caller)'), dt);
    }

    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      add(incl, k, dt);
    }
  }
  const busy = total - idle;
  if (busy <= 0) return 'no busy samples' + (window ? ' inside the window' : '');
  const pct = (v: number) => `${((v / busy) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${pct(v)}  ${k}`)
      .join('\n');
  return [
    `sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}%); percentages are of busy time`,
    `by owner (nearest package or source file on the stack):`,
    list(owners, top),
    `top functions by self time:`,
    list(self, top),
    `top functions by inclusive time:`,
    list(incl, top),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/profile.ts <file.cpuprofile> [topN] [fromUs toUs]\n');
    process.exit(1);
  }
  const [, , , topArg, fromArg, toArg] = process.argv;
  const window = fromArg && toArg ? { fromUs: Number(fromArg), toUs: Number(toArg) } : undefined;
  process.stdout.write(summarizeProfile(file, process.cwd(), Number(topArg ?? 25), window) + '\n');
}
