// The chain side of `npm run bench`, beside the wrk scenarios: the claim → pair flow against the
// running service (bench/flow.ts, run by bench/run.ts inside each mode), and the relayer and
// indexer benches (bench/relayer.ts, bench/indexer.ts), each a child process with its own anvil
// and database, whose verdict comes back through BENCH_RESULT_FILE. Results print as one line
// per bench and mode: value, target, met.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchVerdict } from './chain-fixture.ts';
import type { Mode } from './scenarios.ts';

export const CHAIN_BENCHES = ['claim-pair-flow', 'share-flow', 'relayer', 'indexer'] as const;
export type ChainBenchName = (typeof CHAIN_BENCHES)[number];

export interface ChainResult extends BenchVerdict {
  mode: Mode;
  name: ChainBenchName;
  /** Set when the bench could not produce a verdict (it crashed, or its checks failed). */
  problem?: string;
}

export interface ScriptOptions {
  name: 'relayer' | 'indexer';
  mode: Mode;
  root: string;
  nodeFlags: string[];
  env: NodeJS.ProcessEnv;
  scratch: string;
  /** Registers the child's stop function with the driver's clean-up (Ctrl-C). */
  track(stop: () => Promise<void>): void;
}

/** Runs bench/<name>.ts to its end, its output indented on stderr, and reads its verdict. */
export async function runBenchScript(o: ScriptOptions): Promise<ChainResult> {
  const resultFile = path.join(o.scratch, `${o.name}-${o.mode}.json`);
  fs.rmSync(resultFile, { force: true });
  const proc: ChildProcess = spawn(process.execPath, [...o.nodeFlags, `bench/${o.name}.ts`], {
    cwd: o.root,
    env: { ...o.env, BENCH_RESULT_FILE: resultFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  for (const stream of [proc.stdout!, proc.stderr!]) {
    stream.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        process.stderr.write(`    ${line}\n`);
        tail.push(line);
        if (tail.length > 10) tail.shift();
      }
    });
  }
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code ?? 0)));
  o.track(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await exited;
  });
  const status = await exited;
  let verdict: BenchVerdict | undefined;
  try {
    verdict = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as BenchVerdict;
  } catch {
    // no verdict: reported below with the child's last words
  }
  if (!verdict) {
    return { mode: o.mode, name: o.name, value: '—', target: '—', met: false, details: [], problem: `bench/${o.name}.ts exited (${status}) without a result: ${tail.slice(-3).join(' | ')}` };
  }
  return { mode: o.mode, name: o.name, ...verdict };
}

/** A table of the results (one row per bench and mode) followed by their detail lines. */
export function chainTable(results: ChainResult[]): string {
  const head = ['mode', 'bench', 'result', 'target', 'met'];
  const body = results.map((r) => [r.mode, r.name, r.value, r.target, r.problem ? 'ERRORS' : r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const notes = results.flatMap((r) => [...(r.problem ? [`! ${r.problem}`] : []), ...r.details].map((d) => `- ${r.mode} ${r.name}: ${d}`));
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
