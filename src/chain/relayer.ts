// The relayer: the outbox worker that turns meta_transaction_requests rows into transactions from
// the relayer account and follows them to Confirmed or Failed.
//
// Four steps, each over a batch; every step's result is committed before the next starts, so a
// process killed anywhere resumes from the database alone:
//
//  1. prepare   Unsubmitted, no nonce → simulate from the relayer, outside any DB transaction
//               (eth_createAccessList: one run that also gives the gas used; eth_estimateGas where
//               the node lacks it). A revert → Failed with the decoded reason; nothing is sent.
//               Otherwise one short DB transaction gives the batch consecutive nonces
//               (relayer_accounts row lock) and records gas (+margin) and fees.
//  2. sign      nonce, no signedTx → sign locally, store signedTx and hash = keccak(signedTx) once
//               (compare-and-set: a row's signed bytes never change afterwards, so there is only
//               ever one transaction per request).
//  3. send      signedTx, still Unsubmitted → eth_sendRawTransaction in nonce order → Submitted.
//               A crash before the status update re-sends the same bytes: "already known" or
//               "nonce too low" with our hash found on chain both count as sent.
//  4. track     Submitted/Mined → receipt → Mined → Confirmed at `confirmations` depth; a reverted
//               receipt → Failed with the reason from replaying the call; a receipt that vanished
//               (reorg) → back to Submitted; a Submitted transaction still outside any block after
//               `rebroadcastAfterMs` is looked up and, if the node forgot it, re-broadcast (same
//               bytes).
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
//    settled), or by a filler where no request holds it (fillNonceGap).
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
import { createPublicClient, hexToBigInt, http, keccak256, toHex, type Hex, type PublicClient } from 'viem';
import { Counter, type Registry } from 'prom-client';
import type { Database } from '../db/engine.ts';
import type { ChainContext } from './context.ts';
import type { MetaTxRow } from './outbox.ts';
import { createRelayerStore, NONCE_FILLER_KIND, type Fees, type Transition, type WatchedRow } from './relayer-store.ts';
import {
  ChainUnavailableError,
  isExecutionRevert,
  isMethodUnsupported,
  isRpcUnavailable,
  revertContextFor,
  revertReasonOf,
  shortMessage,
} from './errors.ts';
import { createWakeableSleep } from './wakeable-sleep.ts';
import { createWorkerHealth, describeFailure, failureMessage, waitAfterFailure, type WorkerHealthSnapshot } from './worker-health.ts';
import { classifyBroadcastRejection, feeCap, gasWithMargin, trackedStatus, type TxStatus } from '../domain/relay-state.ts';

export interface RelayerLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Points between steps, for crash tests (a hook may kill the process there). */
export type RelayerStep = 'signed' | 'broadcast';

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
  /** How long the chain must lack a nonce of ours before the gap is filled (default 3 s: a block or two; see fillNonceGap). */
  nonceGapGraceMs?: number;
  /** JSON-RPC batch size for the relayer's own calls (default 100); 0 sends each call alone, through `chain.publicClient`. */
  rpcBatchSize?: number;
  /** Called once per request that reached Confirmed or Failed, after the commit. */
  onSettled?: (row: MetaTxRow) => void | Promise<void>;
  /** Registers `relayer_transactions_total{status}` on this registry. */
  metrics?: Registry;
  /** Test seam: runs after a step's effects are durable (signed: stored; broadcast: sent, not yet recorded). */
  afterStep?: (step: RelayerStep, ids: string[]) => void | Promise<void>;
}

export interface Relayer {
  /** Runs ticks in the background until stop(). */
  start(): void;
  /** Finishes the current tick and stops. */
  stop(): Promise<void>;
  /** One pass over every step; resolves to the number of requests whose state changed. */
  tick(): Promise<number>;
  /** Ends the current sleep early, or the next one if a tick is running (call right after a request was enqueued). */
  wake(): void;
  /** The background loop's liveness and failures (for /ready and the metrics). */
  health(): WorkerHealthSnapshot;
}

const NOOP_LOGGER: RelayerLogger = { info() {}, warn() {}, error() {} };

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
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

/** A simulation's verdict: send with this gas, fail with this reason, or try again later (the node failed, not the call). */
type Simulation = { id: string; ok: true; gasLimit: bigint } | { id: string; ok: false; reason: string } | { id: string; ok: 'skip'; error: string };

export function createRelayer(o: RelayerOptions): Relayer {
  const { chain } = o;
  const rpcBatchSize = o.rpcBatchSize ?? 100;
  // Its own client with JSON-RPC batching: the calls of a pass issued together (simulations,
  // sends, receipts) travel in one HTTP request, which roughly halves the cost per call.
  const pc: PublicClient =
    rpcBatchSize > 0
      ? createPublicClient({
          chain: chain.chain,
          transport: http(chain.rpcUrl, { batch: { batchSize: rpcBatchSize, wait: 0 }, timeout: 10_000, retryCount: 1 }),
          cacheTime: 0,
        })
      : chain.publicClient;
  // With batching, a pass issues its calls together so they share requests.
  const concurrency = o.rpcConcurrency ?? (rpcBatchSize > 0 ? rpcBatchSize : 16);
  const log = o.logger ?? NOOP_LOGGER;
  const batchSize = o.batchSize ?? 100;
  const pollIntervalMs = o.pollIntervalMs ?? 500;
  const maxBackoffMs = o.maxBackoffMs ?? 30_000;
  const probeIntervalMs = o.probeIntervalMs ?? 1000;
  const maxBroadcastAttempts = o.maxBroadcastAttempts ?? 10;
  const from = chain.relayerAddress;
  const fromLower = from.toLowerCase();
  const rebroadcastAfterMs = o.rebroadcastAfterMs ?? 15_000;
  const nonceGapGraceMs = o.nonceGapGraceMs ?? 3000;
  const maxPending = o.maxPending ?? 2 * batchSize;
  const store = createRelayerStore(o.database, from);
  const revertCtx = revertContextFor(chain.deployment);
  const account = chain.relayer.account;
  if (!('signTransaction' in account) || typeof account.signTransaction !== 'function') {
    throw new Error('relayer: the relayer account must sign transactions itself (a local or KMS-backed account)');
  }
  const signTransaction = account.signTransaction.bind(account);

  const counter = o.metrics
    ? ((o.metrics.getSingleMetric('relayer_transactions_total') as Counter<'status'> | undefined) ??
      new Counter({ name: 'relayer_transactions_total', help: 'Transaction requests reaching each status', labelNames: ['status'] as const, registers: [o.metrics] }))
    : undefined;

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

  /** RPC failures that mean "down" abort the tick; everything else is the caller's to classify. */
  async function rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isRpcUnavailable(err)) throw new ChainUnavailableError(`chain RPC unavailable (${what}): ${shortMessage(err)}`, { cause: err });
      throw err;
    }
  }

  /**
   * Fees from the latest block. (Not the pending block: a node builds that by executing its whole
   * pool, which on anvil costs more than the transactions themselves. The fee cap's head-room
   * covers the base fee's growth over the next blocks.)
   */
  async function currentFees(): Promise<Fees> {
    const block = await rpc('getBlock', () => pc.getBlock({ blockTag: 'latest' }));
    if (block.baseFeePerGas === null) throw new Error('relayer: the chain has no EIP-1559 base fee; only EIP-1559 chains are supported');
    const base = block.baseFeePerGas;
    const priority = await rpc('eth_maxPriorityFeePerGas', () =>
      pc.request({ method: 'eth_maxPriorityFeePerGas' }).then(hexToBigInt, async (err: unknown) => {
        // Nodes without the method: the tip is what the legacy gas price adds over the base fee.
        if (isRpcUnavailable(err)) throw err;
        const gasPrice = await pc.getGasPrice();
        return gasPrice > base ? gasPrice - base : 0n;
      }),
    );
    return { maxFeePerGas: feeCap(base, priority), maxPriorityFeePerGas: priority };
  }

  async function txKnown(hash: Hex): Promise<boolean> {
    return rpc('getTransaction', () =>
      pc.getTransaction({ hash }).then(
        () => true,
        (err: unknown) => {
          if (isRpcUnavailable(err)) throw err;
          return false;
        },
      ),
    );
  }

  async function sendRaw(signedTx: Hex): Promise<void> {
    await rpc('sendRawTransaction', () => pc.sendRawTransaction({ serializedTransaction: signedTx }));
  }

  type Broadcast = { sent: true } | { sent: false; err: unknown } | { sent: 'untried' };

  /**
   * Broadcasts in nonce order. With JSON-RPC batching all go in one request, in array order;
   * without, one at a time (stopping when the RPC goes down), so a node never sees a nonce
   * before the one under it.
   */
  async function broadcastInOrder(signed: Hex[]): Promise<Broadcast[]> {
    const tryOne = (tx: Hex): Promise<Broadcast> => sendRaw(tx).then(() => ({ sent: true }), (err: unknown) => ({ sent: false, err }));
    if (rpcBatchSize > 0) return Promise.all(signed.map(tryOne));
    const out: Broadcast[] = signed.map(() => ({ sent: 'untried' }));
    for (const [i, tx] of signed.entries()) {
      const r = await tryOne(tx);
      out[i] = r;
      if (r.sent === false && r.err instanceof ChainUnavailableError) break;
    }
    return out;
  }

  // ── 1. prepare ────────────────────────────────────────────────────────────────────────────────

  // eth_createAccessList runs the call once and reports the gas it used (geth, erigon, nethermind,
  // besu, bor, anvil); eth_estimateGas binary-searches with several runs and, on anvil, one at a
  // time: ~10x the cost. Nodes without the method get eth_estimateGas.
  let accessListSupported = true;

  /** Gas the call uses from the relayer at the latest block; rejects as the call reverts. */
  async function gasUsedBy(call: { from: Hex; to: Hex; data: Hex }): Promise<bigint> {
    if (accessListSupported) {
      try {
        const result: { gasUsed?: Hex; error?: string } = await rpc('eth_createAccessList', () =>
          pc.request({ method: 'eth_createAccessList', params: [call, 'latest'] }),
        );
        // geth reports a revert inside the result, without the data (the caller asks eth_call).
        if (result.error) throw new Error(`execution reverted: ${result.error}`);
        if (result.gasUsed) return hexToBigInt(result.gasUsed);
        accessListSupported = false;
      } catch (err) {
        if (err instanceof ChainUnavailableError || !isMethodUnsupported(err)) throw err;
        accessListSupported = false;
      }
    }
    return hexToBigInt(await rpc('eth_estimateGas', () => pc.request({ method: 'eth_estimateGas', params: [call] })));
  }

  async function simulate(row: MetaTxRow): Promise<Simulation> {
    const call = { from, to: row.toAddress as Hex, data: row.data as Hex };
    try {
      return { id: row.id, ok: true, gasLimit: gasWithMargin(await gasUsedBy(call)) };
    } catch (err) {
      if (err instanceof ChainUnavailableError) throw err;
      if (!isExecutionRevert(err)) return { id: row.id, ok: 'skip', error: shortMessage(err) };
      // Some nodes leave the revert data out of their errors; eth_call carries it.
      let reason = revertReasonOf(err, revertCtx);
      if (!reason || reason.startsWith('Transaction reverted without')) {
        try {
          await rpc('eth_call', () => pc.request({ method: 'eth_call', params: [call, 'latest'] }));
        } catch (callErr) {
          if (callErr instanceof ChainUnavailableError) throw callErr;
          reason = revertReasonOf(callErr, revertCtx) ?? reason;
        }
      }
      return { id: row.id, ok: false, reason: reason ?? 'Transaction reverted without a reason.' };
    }
  }

  async function preparePass(): Promise<number> {
    // Flow control: no more than maxPending transactions waiting for a block. Sending faster than
    // the chain includes them only grows the node's pool (which slows it, or evicts our
    // transactions) and the latency of every request behind them.
    const room = Math.min(batchSize, maxPending - (await store.pendingCount()));
    if (room <= 0) return 0;
    const rows = await store.awaitingPreparation(room);
    if (rows.length === 0) return 0;
    const [fees, pendingNonce, sims] = await Promise.all([
      currentFees(),
      rpc('getTransactionCount', () => pc.getTransactionCount({ address: from, blockTag: 'pending' })),
      mapLimit(rows, concurrency, simulate),
    ]);
    const skipped = sims.filter((sim) => sim.ok === 'skip');
    if (skipped.length > 0) {
      log.warn({ count: skipped.length, requestId: skipped[0]!.id, err: skipped[0]!.error }, 'simulation failed without a revert; will retry');
    }
    let changed = 0;
    for (const sim of sims) {
      if (sim.ok !== false) continue;
      const failed = await store.failUnprepared(sim.id, sim.reason);
      if (failed) {
        changed++;
        await settled(failed);
      }
    }
    const ok = sims.flatMap((s) => (s.ok === true ? [{ id: s.id, gasLimit: s.gasLimit }] : []));
    return changed + (await store.assignNonces(ok, fees, BigInt(pendingNonce)));
  }

  // ── 2. sign ───────────────────────────────────────────────────────────────────────────────────

  async function signPass(): Promise<number> {
    const rows = await store.awaitingSignature(batchSize);
    if (rows.length === 0) return 0;
    const signed = await Promise.all(
      rows.map(async (row) => {
        const signedTx = await signTransaction({
          type: 'eip1559',
          chainId: chain.chainId,
          to: row.toAddress as Hex,
          data: row.data as Hex,
          value: 0n,
          nonce: Number(row.nonce),
          gas: row.gasLimit!,
          maxFeePerGas: row.maxFeePerGas!,
          maxPriorityFeePerGas: row.maxPriorityFeePerGas!,
        });
        return { id: row.id, nonce: row.nonce!, signedTx, hash: keccak256(signedTx) };
      }),
    );
    const stored = await store.storeSigned(signed);
    await o.afterStep?.('signed', signed.map((s) => s.id));
    return stored;
  }

  // ── 3. send ───────────────────────────────────────────────────────────────────────────────────

  /** Our nonce was spent by a transaction that is not ours. */
  async function nonceTaken(row: MetaTxRow): Promise<number> {
    if (row.kind === NONCE_FILLER_KIND) {
      // A filler only exists to spend the nonce; something else did.
      const done = await store.transition('Failed', [{ row, failureReason: `Nonce ${row.nonce} was spent by another transaction.` }]);
      counted('Failed', done.length);
      return done.length;
    }
    if (await store.resetForRepreparation(row.id, row.hash!)) {
      log.warn({ requestId: row.id, nonce: String(row.nonce), hash: row.hash }, 'nonce spent by another transaction; the request will be simulated again with a new nonce');
      return 1;
    }
    return 0;
  }

  async function sendPass(): Promise<number> {
    const rows = await store.awaitingBroadcast(batchSize);
    if (rows.length === 0) return 0;
    const sent: string[] = [];
    let changed = 0;
    let down: ChainUnavailableError | undefined;
    const outcomes = await broadcastInOrder(rows.map((r) => r.signedTx as Hex));
    for (const [i, row] of rows.entries()) {
      const outcome = outcomes[i]!;
      if (outcome.sent === true) {
        sent.push(row.id);
        continue;
      }
      if (outcome.sent === 'untried') continue;
      const err = outcome.err;
      if (err instanceof ChainUnavailableError) {
        down ??= err;
        continue;
      }
      const message = shortMessage(err);
      const kind = classifyBroadcastRejection(message);
      const ctx = { requestId: row.id, nonce: String(row.nonce), hash: row.hash, rpc: message };
      if (kind === 'known') sent.push(row.id);
      else if (kind === 'nonceTooLow') {
        if (await txKnown(row.hash as Hex)) sent.push(row.id);
        else changed += await nonceTaken(row);
      } else if (kind === 'insufficientFunds') log.error(ctx, 'relayer account cannot pay for gas; requests stay queued until it is funded');
      else if (kind === 'conflict') log.warn(ctx, 'another pending transaction holds this nonce; waiting');
      else {
        const attempts = (await store.recordRefusal(row.id, row.hash!)) ?? 0;
        log.warn({ ...ctx, attempts }, 'node refused the transaction');
        if (attempts >= maxBroadcastAttempts) {
          const failed = await store.failAndFillNonce(row, `The chain node refused the transaction: ${message}`, await currentFees());
          if (failed) {
            changed++;
            await settled(failed);
          }
        }
      }
    }
    await o.afterStep?.('broadcast', sent);
    const submitted = await store.markSubmitted(sent);
    counted('Submitted', submitted);
    if (down) throw down;
    return changed + submitted;
  }

  // ── 4. track ──────────────────────────────────────────────────────────────────────────────────

  async function receiptOf(hash: Hex) {
    return rpc('getTransactionReceipt', () =>
      pc.getTransactionReceipt({ hash }).catch((err: unknown) => {
        if (isRpcUnavailable(err)) throw err;
        if (err instanceof Error && err.name === 'TransactionReceiptNotFoundError') return null;
        throw err;
      }),
    );
  }

  /**
   * Why a mined transaction reverted: replay the call just before its block, then at it. A node
   * without state for those blocks (not an archive node and the block is old, e.g. after the
   * relayer was down; anvil restored from its state file) refuses both: then the latest block
   * (the reason it would fail now, usually the same) rather than no reason at all.
   */
  async function revertReasonOfMined(row: MetaTxRow, blockNumber: bigint, gasUsed: bigint): Promise<string> {
    const call = { from, to: row.toAddress as Hex, data: row.data as Hex, gas: toHex(row.gasLimit!) };
    let ranAtItsBlock = false;
    for (const at of [toHex(blockNumber - 1n), toHex(blockNumber), 'latest'] as const) {
      if (at === 'latest' && ranAtItsBlock) break;
      try {
        await rpc('eth_call', () => pc.request({ method: 'eth_call', params: [call, at] }));
        ranAtItsBlock = true;
      } catch (err) {
        if (err instanceof ChainUnavailableError) throw err;
        const reason = revertReasonOf(err, revertCtx);
        if (reason) return reason;
      }
    }
    return row.gasLimit !== null && gasUsed >= row.gasLimit ? 'Transaction ran out of gas.' : 'Transaction reverted without a reason.';
  }

  /** A Submitted transaction without a receipt: make sure the node still has it. */
  async function keepBroadcast(row: MetaTxRow): Promise<number> {
    const hash = row.hash as Hex;
    if (await txKnown(hash)) return 0;
    try {
      await sendRaw(row.signedTx as Hex);
      log.info({ requestId: row.id, hash }, 're-broadcast a transaction the node had dropped');
      return 0;
    } catch (err) {
      if (err instanceof ChainUnavailableError) throw err;
      const message = shortMessage(err);
      const kind = classifyBroadcastRejection(message);
      if (kind === 'known') return 0;
      if (kind === 'nonceTooLow') {
        // Mined between the two look-ups, or spent by someone else.
        if ((await txKnown(hash)) || (await receiptOf(hash))) return 0;
        return nonceTaken(row);
      }
      log.warn({ requestId: row.id, hash, rpc: message }, 'could not re-broadcast a dropped transaction');
      return 0;
    }
  }

  type Decision = { to: 'Submitted' | 'Mined' | 'Confirmed' | 'Failed'; transition: Transition } | { to: 'none'; changed: number };

  /** What a watched request's receipt says; the writes are batched by trackPass. */
  async function decide(row: WatchedRow, head: bigint, minedNonce: bigint): Promise<Decision> {
    if (row.status === 'Submitted' && row.fromAddress === fromLower && row.nonce !== null && row.nonce >= minedNonce) {
      // No block holds this nonce of ours yet, so there is no receipt to ask for. One that has
      // waited long is checked: re-broadcast if the node forgot it (restart, mempool eviction).
      return { to: 'none', changed: row.stale ? await keepBroadcast(row) : 0 };
    }
    const receipt = await receiptOf(row.hash as Hex);
    // The head was read before the receipts; a block mined since is at least as deep as its own.
    const tip = receipt && receipt.blockNumber > head ? receipt.blockNumber : head;
    const next = trackedStatus(receipt && { status: receipt.status, blockNumber: receipt.blockNumber }, tip, chain.confirmations);
    if (next === 'Submitted' || !receipt) {
      // Mined but its receipt is gone: its block was reorganised away; watch it again.
      if (row.status === 'Mined') return { to: 'Submitted', transition: { row, blockHash: null, blockNumber: null } };
      return { to: 'none', changed: await keepBroadcast(row) };
    }
    const block = { blockHash: receipt.blockHash, blockNumber: receipt.blockNumber };
    if (next === 'Mined' && row.status === 'Mined' && row.blockHash === receipt.blockHash) return { to: 'none', changed: 0 };
    if (next === 'Failed') {
      const failureReason = await revertReasonOfMined(row, receipt.blockNumber, receipt.gasUsed);
      return { to: 'Failed', transition: { row, ...block, failureReason } };
    }
    return { to: next, transition: { row, ...block } };
  }

  async function trackPass(): Promise<number> {
    const [head, minedNonce, chainNonce] = await Promise.all([
      rpc('getBlockNumber', () => pc.getBlockNumber({ cacheTime: 0 })),
      rpc('getTransactionCount', () => pc.getTransactionCount({ address: from, blockTag: 'latest' }).then(BigInt)),
      rpc('getTransactionCount', () => pc.getTransactionCount({ address: from, blockTag: 'pending' }).then(BigInt)),
    ]);
    const filled = await fillNonceGap(chainNonce);
    const rows = await store.inFlight(batchSize * 4, rebroadcastAfterMs, minedNonce);
    if (rows.length === 0) return filled;
    const decisions = await mapLimit(rows, concurrency, (row) => decide(row, head, minedNonce));
    // Embedded chain: settle nothing on a block its state file lacks, as the indexer does; a kill
    // of the whole tree would leave a request Confirmed (and notified) on a block the restarted
    // chain never had.
    const settling = decisions.flatMap((d) => (d.to === 'Confirmed' || d.to === 'Failed') && d.transition.blockNumber ? [d.transition.blockNumber] : []);
    if (settling.length > 0) await chain.persistThrough?.(settling.reduce((a, b) => (a > b ? a : b)));
    let changed = 0;
    for (const to of ['Submitted', 'Mined', 'Confirmed', 'Failed'] as const) {
      const batch = decisions.flatMap((d) => (d.to === to ? [d.transition] : []));
      const moved = await store.transition(to, batch);
      changed += moved.length;
      if (to === 'Submitted') {
        for (const r of moved) log.warn({ requestId: r.id, hash: r.hash }, 'transaction left the chain (reorg); watching it again');
        continue;
      }
      // Passing through Mined within one look counts as reaching it.
      const wasSubmitted = new Set(batch.filter((t) => t.row.status === 'Submitted').map((t) => t.row.id));
      counted('Mined', moved.filter((r) => wasSubmitted.has(r.id) && (to === 'Mined' || to === 'Confirmed')).length);
      if (to === 'Confirmed' || to === 'Failed') for (const r of moved) await settled(r);
    }
    for (const d of decisions) if (d.to === 'none') changed += d.changed;
    return changed + filled;
  }

  // ── nonce gaps ────────────────────────────────────────────────────────────────────────────────

  // The lowest nonce the chain (with its pool) lacks, and since when, while it looks like a gap.
  let gap: { nonce: bigint; since: number } | null = null;

  /**
   * A nonce gap: the chain's count (pool included) is below the next nonce we hand out, and the
   * lowest missing nonce is not one our send pass is about to broadcast. A reorg deeper than the
   * confirmations (or a node that lost its pool) dropped transactions of ours; every later one
   * would wait in the pool's queued part forever. Once the gap has lasted `nonceGapGraceMs` (a
   * node behind a load balancer may briefly report less), each missing nonce is filled in order:
   * the request holding it goes back to Submitted (its block is gone) and its stored signed
   * bytes are broadcast again, same hash, so there is still one transaction per request; a nonce
   * no request holds is spent by a filler.
   */
  async function fillNonceGap(chainNonce: bigint): Promise<number> {
    const next = await store.nextNonce();
    if (next === null || chainNonce >= next) {
      gap = null;
      return 0;
    }
    // Handed out and not yet broadcast: the send pass's, not a gap.
    if ((await store.lowestUnsentNonce()) === chainNonce) {
      gap = null;
      return 0;
    }
    const now = Date.now();
    if (gap?.nonce !== chainNonce) gap = { nonce: chainNonce, since: now };
    if (now - gap.since < nonceGapGraceMs) return 0;
    gap = null;
    const end = next < chainNonce + BigInt(batchSize) ? next : chainNonce + BigInt(batchSize);
    const nonces: bigint[] = [];
    for (let n = chainNonce; n < end; n++) nonces.push(n);
    const holders = await store.nonceHolders(nonces);
    log.warn(
      { chainNonce: String(chainNonce), nextNonce: String(next) },
      'relayer: nonce gap: the chain lacks transactions of ours (a reorg deeper than CHAIN_CONFIRMATIONS, or a node that lost its pool); re-broadcasting them',
    );
    let changed = 0;
    let fees: Fees | undefined;
    for (const nonce of nonces) {
      const held = holders.filter((h) => h.nonce === nonce);
      if (held.length === 0) {
        fees ??= await currentFees();
        if (await store.fillUnheldNonce(nonce, fees)) {
          log.warn({ nonce: String(nonce) }, 'relayer: no request holds a missing nonce; a filler transaction spends it');
          changed++;
        }
        continue;
      }
      for (const row of held) {
        if (row.status === 'Unsubmitted' || !row.signedTx || !row.hash) continue;
        if (row.status !== 'Submitted') {
          // A node lagging behind the one that answered the count may still have it.
          if (await receiptOf(row.hash as Hex)) continue;
          const moved = await store.transition('Submitted', [{ row, blockHash: null, blockNumber: null, failureReason: null }]);
          if (moved.length === 0) continue;
          changed++;
          log.warn({ requestId: row.id, hash: row.hash, was: row.status }, 'transaction left the chain (reorg deeper than the confirmations); back to Submitted, re-broadcasting the same signed bytes');
        }
        changed += await keepBroadcast({ ...row, status: 'Submitted' });
      }
    }
    return changed;
  }

  // ── loop ──────────────────────────────────────────────────────────────────────────────────────

  /**
   * One tick: prepare → sign → send for new requests, and, at the same time, tracking of those
   * already sent (disjoint rows; every write is a compare-and-set), so waiting on the node for one
   * batch overlaps with the other. A failure of either rejects the tick once both have finished.
   */
  async function tick(): Promise<number> {
    const started = performance.now();
    const timed = async (pass: () => Promise<number>) => {
      const t = performance.now();
      const n = await pass();
      return [n, Math.round(performance.now() - t)] as const;
    };
    const [forward, tracking] = await Promise.allSettled([
      (async () => [await timed(preparePass), await timed(signPass), await timed(sendPass)] as const)(),
      timed(trackPass),
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

  let running: Promise<void> | undefined;
  let stopping = false;
  const { sleep, wake } = createWakeableSleep();
  const health = createWorkerHealth();

  const probe = (component: 'chain' | 'database') => (component === 'chain' ? pc.getBlockNumber({ cacheTime: 0 }) : o.database.ping());

  async function loop(): Promise<void> {
    let backoff = pollIntervalMs;
    while (!stopping) {
      let changed = 0;
      health.tickStarted();
      try {
        changed = await tick();
        const was = health.snapshot();
        health.tickSucceeded();
        if (was.lastFailure) {
          log.info({ component: was.lastFailure.component, downMs: Date.now() - was.failingSince! }, 'relayer: ticks succeed again');
        }
        backoff = pollIntervalMs;
      } catch (err) {
        const kind = health.tickFailed(err);
        // Logged once per outage (per failing component), not once per retry.
        if (kind.first) {
          const msg = `relayer: tick failed (${describeFailure(kind)}); requests stay queued`;
          if (kind.unavailable) log.warn({ component: kind.component, err: failureMessage(err) }, msg);
          else log.error({ component: kind.component, err }, msg);
        }
        if (stopping) break;
        backoff = Math.min(backoff * 2, maxBackoffMs);
        await waitAfterFailure({ kind, backoffMs: backoff, probeIntervalMs, sleep, stopped: () => stopping, probe });
        continue;
      }
      if (stopping) break;
      if (changed > 0) continue;
      await sleep(pollIntervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      stopping = false;
      health.setRunning(true);
      running = loop().finally(() => {
        running = undefined;
        health.setRunning(false);
      });
    },
    async stop() {
      stopping = true;
      wake();
      await running;
    },
    tick,
    wake,
    health: () => health.snapshot(),
  };
}
