// What the relayer's steps (prepare, sign, send, track) share: its settings, its store, its node
// client, its logger and the "a request settled" bookkeeping. Built once by createRelayer.
import type { Address } from 'viem';
import type { ChainContext } from '../context.ts';
import type { MetaTxRow } from '../../db/repositories/transaction-requests.ts';
import type { RevertContext } from '../../domain/revert-reasons.ts';
import type { RelayerStore } from '../relayer-store.ts';
import type { TxStatus } from '../../domain/relay-state.ts';
import type { RelayerNode } from './node.ts';
import type { Tracer } from '../../telemetry/tracer.ts';

export interface RelayerLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Points between steps, for crash tests (a hook may kill the process there). */
export type RelayerStep = 'signed' | 'broadcast';

export interface RelayerContext {
  chain: ChainContext;
  store: RelayerStore;
  node: RelayerNode;
  log: RelayerLogger;
  /** The relayer account, and its lower-case form (the database's). */
  from: Address;
  fromLower: string;
  revertCtx: RevertContext;
  batchSize: number;
  /** RPC calls in flight at once while simulating or tracking. */
  concurrency: number;
  maxPending: number;
  maxBroadcastAttempts: number;
  rebroadcastAfterMs: number;
  nonceGapGraceMs: number;
  /** Counts requests reaching `status` (relayer_transactions_total). */
  counted(status: TxStatus, n?: number): void;
  /** A request reached Confirmed or Failed: count, log and notify. */
  settled(row: MetaTxRow): Promise<void>;
  afterStep?: (step: RelayerStep, ids: string[]) => void | Promise<void>;
  /** Spans per request for each step (tracing on). */
  tracer?: Tracer;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
