// What a background worker (relayer, indexer) tells the rest of the process about itself: is its
// loop running, is a tick taking too long, has it been failing, and which component failed. The
// worker loops record here; readiness and the metrics read it. Also the shared "while down"
// wait: one cheap probe every few seconds instead of an ever longer back-off, so a worker
// resumes within seconds of its dependency coming back.
import { BaseError } from 'viem';
import { isDatabaseUnavailable } from '../db/engine.ts';
import { ChainUnavailableError, isRpcUnavailable, shortMessage } from './errors.ts';

/** What a failed tick's error points at: the chain RPC, the database, or neither (a bug, a refusal). */
export type FailedComponent = 'chain' | 'database' | 'worker';

export interface FailureKind {
  component: FailedComponent;
  /** The component did not answer at all (connection, timeout): wait for it with probes. */
  unavailable: boolean;
}

/**
 * Which component an error came from. viem's errors (and ChainUnavailableError) are the chain's;
 * a connection error from `pg` carries the same ECONNREFUSED a dead RPC does, so the database is
 * recognised by its own rules and only errors with no viem error inside count as the database's.
 */
export function classifyFailure(err: unknown): FailureKind {
  let viem = false;
  for (let e: any = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    if (e instanceof ChainUnavailableError) return { component: 'chain', unavailable: true };
    if (e instanceof BaseError) viem = true;
  }
  if (viem) return { component: 'chain', unavailable: isRpcUnavailable(err) };
  if (isDatabaseUnavailable(err)) return { component: 'database', unavailable: true };
  if (isDatabaseError(err)) return { component: 'database', unavailable: false };
  return { component: 'worker', unavailable: false };
}

/** An error the database server (SQLSTATE) or the drizzle query layer raised. */
function isDatabaseError(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') return true;
    if (e.name === 'DrizzleQueryError') return true;
  }
  return false;
}

/** The database server's own words where there are some (drizzle wraps them in "Failed query: <the SQL>"). */
export function failureMessage(err: unknown): string {
  for (let e: any = err, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (typeof e.severity === 'string' && typeof e.message === 'string') return e.message;
  }
  return shortMessage(err);
}

/** "database unavailable", "chain RPC error", … for log lines and readiness reasons. */
export function describeFailure(kind: FailureKind): string {
  if (kind.component === 'worker') return 'error';
  return `${kind.component === 'chain' ? 'chain RPC' : 'database'} ${kind.unavailable ? 'unavailable' : 'error'}`;
}

export interface WorkerHealthSnapshot {
  /** The loop is running (start() called, stop() not). */
  running: boolean;
  /** Since when the current tick runs (epoch ms), or null between ticks. */
  tickStartedAt: number | null;
  /** End of the last tick that succeeded (epoch ms), or null before the first. */
  lastSuccessAt: number | null;
  /** Start of the current run of failed ticks (epoch ms), or null when the last tick succeeded. */
  failingSince: number | null;
  consecutiveFailures: number;
  /** The last failure while failing: its component and message. */
  lastFailure: (FailureKind & { message: string }) | null;
}

export interface WorkerHealth {
  snapshot(): WorkerHealthSnapshot;
  setRunning(running: boolean): void;
  tickStarted(): void;
  tickSucceeded(): void;
  /** Records the failure; returns its kind and whether it starts a new outage (log it then). */
  tickFailed(err: unknown): FailureKind & { first: boolean };
}

export function createWorkerHealth(now: () => number = Date.now): WorkerHealth {
  const s: WorkerHealthSnapshot = { running: false, tickStartedAt: null, lastSuccessAt: null, failingSince: null, consecutiveFailures: 0, lastFailure: null };
  return {
    snapshot: () => ({ ...s, lastFailure: s.lastFailure && { ...s.lastFailure } }),
    setRunning(running) {
      s.running = running;
      if (!running) s.tickStartedAt = null;
    },
    tickStarted() {
      s.tickStartedAt = now();
    },
    tickSucceeded() {
      s.tickStartedAt = null;
      s.lastSuccessAt = now();
      s.failingSince = null;
      s.consecutiveFailures = 0;
      s.lastFailure = null;
    },
    tickFailed(err) {
      const kind = classifyFailure(err);
      const first = s.lastFailure === null || s.lastFailure.component !== kind.component || s.lastFailure.unavailable !== kind.unavailable;
      s.tickStartedAt = null;
      s.failingSince ??= now();
      s.consecutiveFailures++;
      s.lastFailure = { ...kind, message: failureMessage(err).slice(0, 300) };
      return { ...kind, first };
    },
  };
}

export interface WorkerVerdictOptions {
  now: number;
  /** A tick running longer than this means the worker is stuck (default 60 s). */
  stuckAfterMs?: number;
  /** Failing for this long, or `failingTicks` ticks in a row, is a repeating error (default 10 s, 3). */
  failingAfterMs?: number;
  failingTicks?: number;
}

/** Why this worker is not healthy, or null when it is. */
export function workerProblem(name: string, h: WorkerHealthSnapshot, o: WorkerVerdictOptions): string | null {
  const stuckAfterMs = o.stuckAfterMs ?? 60_000;
  const failingAfterMs = o.failingAfterMs ?? 10_000;
  const failingTicks = o.failingTicks ?? 3;
  if (!h.running) return `${name} is not running`;
  if (h.tickStartedAt !== null && o.now - h.tickStartedAt > stuckAfterMs) {
    return `${name} is stuck: its tick has been running for ${Math.round((o.now - h.tickStartedAt) / 1000)} s`;
  }
  if (h.failingSince !== null && h.lastFailure && (o.now - h.failingSince >= failingAfterMs || h.consecutiveFailures >= failingTicks)) {
    const secs = Math.round((o.now - h.failingSince) / 1000);
    return `${name}: ticks failing for ${secs} s (${h.consecutiveFailures} in a row), ${describeFailure(h.lastFailure)}: ${h.lastFailure.message}`;
  }
  return null;
}

/**
 * The wait after a failed tick. An unavailable component is probed every `probeIntervalMs`
 * (cheap: eth_blockNumber, `select 1`) and the worker resumes as soon as a probe answers; any
 * other failure waits an exponential back-off. Resolves early when `stopped()` turns true.
 */
export async function waitAfterFailure(o: {
  kind: FailureKind;
  backoffMs: number;
  probeIntervalMs: number;
  sleep: (ms: number) => Promise<void>;
  stopped: () => boolean;
  probe: (component: 'chain' | 'database') => Promise<unknown>;
}): Promise<void> {
  if (!o.kind.unavailable || o.kind.component === 'worker') {
    await o.sleep(o.backoffMs);
    return;
  }
  const component = o.kind.component;
  while (!o.stopped()) {
    await o.sleep(o.probeIntervalMs);
    if (o.stopped()) return;
    try {
      await o.probe(component);
      return;
    } catch {
      // Still down; probe again.
    }
  }
}
