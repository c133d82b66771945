// The relayer: the outbox worker that turns meta_transaction_requests rows into transactions from
// the relayer account and follows them to Confirmed or Failed.
//
// Four steps, each over a batch; every step's result is committed before the next starts, so a
// process killed anywhere resumes from the database alone:
//
//  1. prepare   (relayer/prepare.ts) Unsubmitted, no nonce → simulated; a revert fails the request,
//               otherwise one short DB transaction gives the batch consecutive nonces, gas and fees.
//  2. sign      (relayer/sign.ts) nonce, no signedTx → signed locally, stored once with its hash.
//  3. send      (relayer/send.ts) signedTx, still Unsubmitted → broadcast in nonce order → Submitted.
//  4. track     (relayer/track.ts) Submitted/Mined → receipt → Mined → Confirmed, Failed, or back to
//               Submitted after a reorg; a dropped transaction is re-broadcast (same bytes).
// A tick runs 1→2→3 for new requests while 4 runs for those already sent. At most `maxPending`
// nonces wait for a block at a time (flow control: a flooded pool slows the node and delays
// every request behind it).
//
// Nonces. A request's nonce is only ever released in two provable cases:
//  - the node says "nonce too low" and does not know our hash: another transaction spent the nonce,
//    so our call cannot run with it. The request goes back to step 1 (re-simulated, new nonce).
//  - the node keeps refusing our bytes (`maxBroadcastAttempts` refusals, e.g. fee cap below the base
//    fee for a long time, or a gas limit above the block's): the request fails with the node's words
//    and, in the same DB transaction, a zero-value self-transfer row takes over the nonce so the
//    requests after it are not stuck behind a gap. (This assumes one RPC endpoint: it refused the
//    bytes, so it holds no copy that could still be mined.)
//  - the chain lacks a nonce we handed out (a nonce gap: a reorg deeper than the confirmations
//    dropped our transactions, or the node lost its pool): not released but filled, by
//    re-broadcasting the stored bytes of the request holding it (back to Submitted if it had
//    settled), or by a filler where no request holds it (relayer/nonce-gap.ts).
// Lack of gas money, or another pending transaction holding the nonce, keeps requests queued with
// an error log; nothing is failed for it. Fee bumping of a Submitted transaction stuck in a
// mempool is not done (the row keeps one hash); on the embedded chain it never happens.
//
// Replicas: writes are compare-and-set on the state read, and nonce allocation holds the account
// row lock, so each request gets one nonce and one signed transaction even when replicas race;
// they may duplicate read-only RPC work (simulation, receipt look-ups), never a send of different
// bytes. RPC or database unavailable: the tick stops at the first transport failure, rows stay as
// they are, and the loop probes the failed component (eth_blockNumber, `select 1`) every
// `probeIntervalMs` until it answers, then drains at once (logged once per outage, naming the
// component). Other failures back off exponentially up to `maxBackoffMs`.
import { Counter, type Registry } from 'prom-client';
import type { Database } from '../db/engine.ts';
import type { ChainContext } from './context.ts';
import type { MetaTxRow } from '../db/repositories/transaction-requests.ts';
import { createRelayerStore, NONCE_FILLER_KIND } from './relayer-store.ts';
import { revertContextFor } from './errors.ts';
import { createWorkerLoop, type BackgroundWorker } from './worker-loop.ts';
import { describeFailure, failureMessage } from './worker-health.ts';
import type { TxStatus } from '../domain/relay-state.ts';
import type { RelayerContext, RelayerLogger, RelayerStep } from './relayer/context.ts';
import { createRelayerNode } from './relayer/node.ts';
import { preparePass } from './relayer/prepare.ts';
import { signerOf, signPass } from './relayer/sign.ts';
import { sendPass } from './relayer/send.ts';
import { trackPass } from './relayer/track.ts';
import { createNonceGapFiller } from './relayer/nonce-gap.ts';
import type { Tracer } from '../telemetry/tracer.ts';

export type { RelayerLogger, RelayerStep } from './relayer/context.ts';

export interface RelayerOptions {
  database: Database;
  chain: ChainContext;
  logger?: RelayerLogger;
  /** Sleep between ticks that changed nothing (default 500 ms). */
  pollIntervalMs?: number;
  /** Rows per pass (default 100). */
  batchSize?: number;
  /** Longest back-off after a failed tick that is not an outage (default 30 s). */
  maxBackoffMs?: number;
  /** While the RPC or the database does not answer, a cheap probe this often; the queue drains right after one answers (default 1 s). */
  probeIntervalMs?: number;
  /** Most transactions given a nonce but not yet seen in a block; new requests wait beyond that (default 2 × batchSize). */
  maxPending?: number;
  /** Refusals of the same signed bytes before the request fails and its nonce is refilled (default 10). */
  maxBroadcastAttempts?: number;
  /** RPC calls in flight at once while simulating or tracking (default: the batch size, or 16 without batching). */
  rpcConcurrency?: number;
  /** A Submitted transaction still not in a block after this long is looked up and re-broadcast if the node dropped it (default 15 s). */
  rebroadcastAfterMs?: number;
  /** How long the chain must lack a nonce of ours before the gap is filled (default 3 s: a block or two; see relayer/nonce-gap.ts). */
  nonceGapGraceMs?: number;
  /** JSON-RPC batch size for the relayer's own calls (default 100); 0 sends each call alone, through `chain.publicClient`. */
  rpcBatchSize?: number;
  /** Called once per request that reached Confirmed or Failed, after the commit. */
  onSettled?: (row: MetaTxRow) => void | Promise<void>;
  /** Registers `relayer_transactions_total{status}` on this registry. */
  metrics?: Registry;
  /** Test seam: runs after a step's effects are durable (signed: stored; broadcast: sent, not yet recorded). */
  afterStep?: (step: RelayerStep, ids: string[]) => void | Promise<void>;
  /** Spans per request for simulate, sign, broadcast and receipt (tracing on). */
  tracer?: Tracer;
}

/** tick(): one pass over every step, resolving to the number of requests whose state changed; wake() right after a request was enqueued. */
export type Relayer = BackgroundWorker;

const NOOP_LOGGER: RelayerLogger = { info() {}, warn() {}, error() {} };

function transactionsCounter(metrics: Registry | undefined): Counter<'status'> | undefined {
  if (!metrics) return undefined;
  return (
    (metrics.getSingleMetric('relayer_transactions_total') as Counter<'status'> | undefined) ??
    new Counter({ name: 'relayer_transactions_total', help: 'Transaction requests reaching each status', labelNames: ['status'] as const, registers: [metrics] })
  );
}

/** The settings and shared moves of the steps, from the options and their defaults. */
function relayerContext(o: RelayerOptions): RelayerContext {
  const rpcBatchSize = o.rpcBatchSize ?? 100;
  const batchSize = o.batchSize ?? 100;
  const log = o.logger ?? NOOP_LOGGER;
  const counter = transactionsCounter(o.metrics);
  const counted = (status: TxStatus, n = 1) => {
    if (n > 0) counter?.inc({ status }, n);
  };
  async function settled(row: MetaTxRow): Promise<void> {
    counted(row.status as TxStatus);
    if (row.kind === NONCE_FILLER_KIND) return;
    log.info({ requestId: row.id, kind: row.kind, status: row.status, hash: row.hash, failureReason: row.failureReason ?? undefined }, 'transaction request settled');
    if (!o.onSettled) return;
    try {
      await o.onSettled(row);
    } catch (err) {
      // The chain and the indexer remain the source of truth; a failed notification is only logged.
      log.error({ err, requestId: row.id }, 'onSettled hook failed');
    }
  }
  const from = o.chain.relayerAddress;
  return {
    chain: o.chain,
    store: createRelayerStore(o.database, from),
    node: createRelayerNode(o.chain, rpcBatchSize),
    log,
    from,
    fromLower: from.toLowerCase(),
    revertCtx: revertContextFor(o.chain.deployment),
    batchSize,
    // With batching, a pass issues its calls together so they share requests.
    concurrency: o.rpcConcurrency ?? (rpcBatchSize > 0 ? rpcBatchSize : 16),
    maxPending: o.maxPending ?? 2 * batchSize,
    maxBroadcastAttempts: o.maxBroadcastAttempts ?? 10,
    rebroadcastAfterMs: o.rebroadcastAfterMs ?? 15_000,
    nonceGapGraceMs: o.nonceGapGraceMs ?? 3000,
    counted,
    settled,
    afterStep: o.afterStep,
    tracer: o.tracer,
  };
}

const timed = async (pass: () => Promise<number>) => {
  const t = performance.now();
  const n = await pass();
  return [n, Math.round(performance.now() - t)] as const;
};

export function createRelayer(o: RelayerOptions): Relayer {
  const ctx = relayerContext(o);
  const { log, node } = ctx;
  const signTransaction = signerOf(ctx);
  const fillNonceGap = createNonceGapFiller(ctx);
  const pollIntervalMs = o.pollIntervalMs ?? 500;

  /**
   * One tick: prepare → sign → send for new requests, and, at the same time, tracking of those
   * already sent (disjoint rows; every write is a compare-and-set), so waiting on the node for one
   * batch overlaps with the other. A failure of either rejects the tick once both have finished.
   */
  async function tick(): Promise<number> {
    const started = performance.now();
    const [forward, tracking] = await Promise.allSettled([
      (async () => [await timed(() => preparePass(ctx)), await timed(() => signPass(ctx, signTransaction)), await timed(() => sendPass(ctx))] as const)(),
      timed(() => trackPass(ctx, fillNonceGap)),
    ]);
    if (forward.status === 'rejected') throw forward.reason;
    if (tracking.status === 'rejected') throw tracking.reason;
    const [[prepared, prepareMs], [signed, signMs], [sent, sendMs]] = forward.value;
    const [tracked, trackMs] = tracking.value;
    const changed = prepared + signed + sent + tracked;
    if (changed > 0) {
      log.debug?.({ prepared, signed, sent, tracked, prepareMs, signMs, sendMs, trackMs, ms: Math.round(performance.now() - started) }, 'relayer tick');
    }
    return changed;
  }

  const worker = createWorkerLoop({
    tick,
    pauseAfter: (changed) => (changed > 0 ? 0 : pollIntervalMs),
    minBackoffMs: pollIntervalMs,
    maxBackoffMs: o.maxBackoffMs ?? 30_000,
    probeIntervalMs: o.probeIntervalMs ?? 1000,
    probe: (component) => (component === 'chain' ? node.pc.getBlockNumber({ cacheTime: 0 }) : o.database.ping()),
    onRecovered: (was) => log.info({ component: was.lastFailure!.component, downMs: Date.now() - was.failingSince! }, 'relayer: ticks succeed again'),
    onFailed(err, kind) {
      // Logged once per outage (per failing component), not once per retry.
      if (!kind.first) return;
      const msg = `relayer: tick failed (${describeFailure(kind)}); requests stay queued`;
      if (kind.unavailable) log.warn({ component: kind.component, err: failureMessage(err) }, msg);
      else log.error({ component: kind.component, err }, msg);
    },
  });

  return { start: worker.start, stop: worker.stop, tick, wake: worker.wake, health: worker.health };
}
