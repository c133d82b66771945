// The indexer: reads the registry's and node NFTs' logs from the stored cursor, in order and in
// block batches, and applies them to the database (CHAIN.md §4), one database transaction per
// batch. The chain is the source of truth; changes made directly on chain (a wallet's transfer or
// privilege grant) land here exactly like the service's own.
//
// Depth and reorgs. Only final blocks are read: depth ≥ `confirmations` with the head at depth 1
// (finalThrough, the rule the relayer's Confirmed follows too). Each applied batch is recorded in
// chain_blocks with the hash of its last block and an undo log (the before images of the rows it
// changed). Every tick first checks that the cursor's block hash is still on the chain; if not, it
// walks back the recorded batches to the newest one still on the chain (the fork point), replays
// the undo logs of the batches after it (newest first) and moves the cursor there, so the next
// tick re-reads the new branch. State the reorg removed (a vehicle mint, a privilege, a pairing)
// is thereby removed here too. A fork older than every recorded batch — a deeper reorg than
// `reorgWindowBlocks`, or a chain whose state was lost — stops the indexer with
// ChainDivergedError instead of serving data from a chain that no longer exists.
//
// Idempotence: applying a batch whose effects are already in the database changes no row (the
// effects are "set to" values, compared before writing). Replicas serialise on the cursor row's
// lock; one that finds the cursor moved discards its batch.
import type { Hex } from 'viem';
import { sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/engine.ts';
import type { ChainContext } from './context.ts';
import { createLogDecoder, watchedAddresses, type ChainEvent, type ContractAddresses, type RawLog } from '../domain/chain-events.ts';
import { applyEvents } from '../domain/chain-effects.ts';
import { diffWorld, keysOf, snapshotRows } from '../domain/chain-world.ts';
import { dimoRegistryAbi, nodeNftAbi } from './abi/index.ts';
import { newKsuid } from '../domain/ids.ts';
import {
  batchesBelow,
  loadWorld,
  lockCursor,
  pruneBatches,
  readCursor,
  recordBatch,
  rewindTo,
  undoLog,
  writeChanges,
  type Cursor,
} from './indexer-store.ts';
import { isRpcUnavailable } from './errors.ts';
import { emitChainEvents } from '../events/from-chain.ts';
import { finalThrough } from '../domain/relay-state.ts';
import { createWorkerLoop } from './worker-loop.ts';
import { describeFailure, failureMessage, type WorkerHealthSnapshot } from './worker-health.ts';
import { ATTR, type Tracer } from '../telemetry/tracer.ts';

export interface IndexerLogger {
  debug?(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface IndexerOptions {
  database: Database;
  chain: ChainContext;
  logger?: IndexerLogger;
  /** Blocks per batch (default 2,000); a node refusing the range (too many logs) gets halves. */
  batchBlocks?: number;
  /** Sleep between ticks once caught up (default 1,000 ms). */
  pollIntervalMs?: number;
  /** How far back batch records (and their undo logs) are kept for rewinds (default 4,096 blocks). */
  reorgWindowBlocks?: number;
  /** Longest back-off after a failed tick that is not an outage (default 10 s: a lock timeout, say). */
  maxBackoffMs?: number;
  /** While the RPC or the database does not answer, a cheap probe this often (default 1 s). */
  probeIntervalMs?: number;
  now?: () => Date;
  /** The API's public address, for the views the webhook events carry (src/events/from-chain.ts). */
  publicBaseUrl: string;
  /** A span per batch read and applied (tracing on). */
  tracer?: Tracer;
}

export interface TickResult {
  /** Events applied by this tick (0 for a rewind or when there was nothing new). */
  applied: number;
  /** The cursor after the tick: the last block whose events are in the database. */
  toBlock: bigint;
  /** True when the cursor reached the confirmed head. */
  caughtUp: boolean;
  /** Set when this tick rewound a reorg: the fork point it went back to. */
  rewoundTo?: bigint;
}

export interface Indexer {
  start(): void;
  /** Finishes the current tick and stops. */
  stop(): Promise<void>;
  tick(): Promise<TickResult>;
  /** Ends the current sleep early, or the next one if a tick is running (call when a block with our transaction is final). */
  wake(): void;
  /** The last tick's failure while running in the background (null after a good tick). */
  lastError(): Error | null;
  /** The background loop's liveness and failures (for /ready and the metrics). */
  health(): WorkerHealthSnapshot;
}

/** The chain no longer contains the blocks the database was built from. */
export class ChainDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainDivergedError';
  }
}

const NOOP_LOGGER: IndexerLogger = { info() {}, warn() {}, error() {} };

/**
 * A batch waits at most this long for the cursor's lock (another session holding chain_cursor):
 * the tick then fails with the database's own error, and /ready reports it, instead of the
 * worker hanging behind the lock (the client-side query timeout does not cancel the wait).
 */
const LOCK_WAIT = '10s';

async function boundLockWait(tx: Tx): Promise<void> {
  await tx.execute(sql.raw(`set local lock_timeout = '${LOCK_WAIT}'`));
}

/** Raised inside the batch transaction when another replica moved the cursor first. */
class CursorMoved extends Error {}

export function createIndexer(o: IndexerOptions): Indexer {
  const { chain, database } = o;
  const pc = chain.publicClient;
  const log = o.logger ?? NOOP_LOGGER;
  const batchBlocks = BigInt(Math.max(1, o.batchBlocks ?? 2000));
  const window = BigInt(Math.max(1, o.reorgWindowBlocks ?? 4096));
  const pollMs = o.pollIntervalMs ?? 1000;
  const maxBackoffMs = o.maxBackoffMs ?? 10_000;
  const probeIntervalMs = o.probeIntervalMs ?? 1000;
  const now = o.now ?? (() => new Date());
  const addresses: ContractAddresses = chain.deployment;
  const watched = watchedAddresses(addresses);
  const startBlock = chain.deployment.deployBlock - 1n;
  const decodeLogs = createLogDecoder({ registry: dimoRegistryAbi, nodeNft: nodeNftAbi });

  async function blockHash(n: bigint): Promise<string | null> {
    const block: { hash: Hex | null } | null = await pc.request({ method: 'eth_getBlockByNumber', params: [`0x${n.toString(16)}`, false] });
    return block?.hash?.toLowerCase() ?? null;
  }

  /** eth_getLogs over [from, to], splitting the range when the node refuses it as too large. */
  async function getLogs(from: bigint, to: bigint): Promise<RawLog[]> {
    try {
      return await pc.request({
        method: 'eth_getLogs',
        params: [{ address: watched, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` }],
      });
    } catch (err) {
      if (isRpcUnavailable(err) || from === to) throw err;
      const mid = from + (to - from) / 2n;
      return [...(await getLogs(from, mid)), ...(await getLogs(mid + 1n, to))];
    }
  }

  /**
   * Integration names: the mint event carries none, so read them from the registry — at the latest
   * block, never at the event's: a pruned node (or an anvil restored from its state file) has no
   * state for past blocks. The registry sets a name once, at the mint, so the latest is the same.
   */
  async function integrationNames(events: ChainEvent[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const e of events) {
      if (e.kind !== 'IntegrationMinted') continue;
      const name = await pc.readContract({
        address: chain.deployment.registry,
        abi: dimoRegistryAbi,
        functionName: 'getIntegrationNameById',
        args: [e.tokenId],
      });
      if (name) out.set(e.tokenId.toString(), name);
    }
    return out;
  }

  /** Where indexing starts: the block before the registry's deployment. */
  async function initialCursor(): Promise<Cursor> {
    const hash = await blockHash(startBlock);
    if (!hash) throw new ChainDivergedError(`The chain has no block ${startBlock}; is CHAIN_RPC_URL the chain the registry was deployed on?`);
    return { blockNumber: startBlock, blockHash: hash };
  }

  /** The newest recorded batch still on the chain, or null when none within the window is. */
  async function findForkPoint(below: bigint): Promise<Cursor | null> {
    let cursor = below;
    for (;;) {
      const rows = await batchesBelow(database.db, cursor, 64);
      if (rows.length === 0) return null;
      for (const row of rows) {
        if ((await blockHash(row.number)) === row.hash) return { blockNumber: row.number, blockHash: row.hash };
        cursor = row.number;
      }
    }
  }

  async function rewind(stale: Cursor): Promise<TickResult> {
    const fork = await findForkPoint(stale.blockNumber);
    if (!fork) {
      throw new ChainDivergedError(
        `The chain no longer contains block ${stale.blockNumber} (${stale.blockHash}) that the database was indexed up to, ` +
          `nor any recorded block after the registry's deployment within the last ${window} blocks: the chain's state was lost ` +
          `or replaced, or a reorg went deeper than the window. Restore the chain state, or rebuild the database against this chain.`,
      );
    }
    const restored = await database.db.transaction(async (tx) => {
      await boundLockWait(tx);
      const locked = await lockCursor(tx, stale);
      if (locked.blockNumber !== stale.blockNumber || locked.blockHash !== stale.blockHash) throw new CursorMoved();
      const { restored, undone } = await rewindTo(tx, fork);
      // What the reorg took back is announced in the same transaction (reverse or *.reverted
      // events), newest batch first like the undo itself.
      for (const changes of undone) await emitChainEvents(tx, changes, { publicBaseUrl: o.publicBaseUrl, now: now(), reorg: true });
      return restored;
    });
    log.warn({ from: stale.blockNumber.toString(), to: fork.blockNumber.toString(), restored }, 'indexer: chain reorganised; rewound to the fork point');
    return { applied: 0, toBlock: fork.blockNumber, caughtUp: false, rewoundTo: fork.blockNumber };
  }

  async function tickOnce(): Promise<TickResult> {
    const stored = await readCursor(database.db);
    const cursor = stored ?? (await initialCursor());
    if (stored && (await blockHash(cursor.blockNumber)) !== cursor.blockHash) return rewind(cursor);

    const head = await pc.getBlockNumber({ cacheTime: 0 });
    const safe = finalThrough(head, chain.confirmations);
    const from = cursor.blockNumber + 1n;
    if (from > safe) return { applied: 0, toBlock: cursor.blockNumber, caughtUp: true };
    const to = from + batchBlocks - 1n < safe ? from + batchBlocks - 1n : safe;
    if (!o.tracer) return applyBatch(cursor, from, to, safe);
    return o.tracer.inSpan('indexer.batch', { [ATTR.fromBlock]: Number(from), [ATTR.toBlock]: Number(to) }, () => applyBatch(cursor, from, to, safe));
  }

  /** Reads the logs of [from, to] and applies them in one database transaction. */
  async function applyBatch(cursor: Cursor, from: bigint, to: bigint, safe: bigint): Promise<TickResult> {
    const t0 = performance.now();
    const endHash = await blockHash(to);
    const logs = await getLogs(from, to);
    // The range must come from one branch: the end block unchanged while the logs were read and
    // every log of the end block carrying its hash. Otherwise the next tick reads it again.
    if (!endHash || (await blockHash(to)) !== endHash || logs.some((l) => l.blockNumber && BigInt(l.blockNumber) === to && l.blockHash?.toLowerCase() !== endHash)) {
      return { applied: 0, toBlock: cursor.blockNumber, caughtUp: false };
    }
    const { events, undecodable } = decodeLogs(logs, addresses);
    if (undecodable > 0) log.warn({ from: from.toString(), to: to.toString(), undecodable }, 'indexer: logs that did not decode were skipped');
    const names = await integrationNames(events);
    await chain.persistThrough?.(to);
    const t1 = performance.now();

    const { changes, warnings } = await database.db.transaction(async (tx) => {
      await boundLockWait(tx);
      const locked = await lockCursor(tx, cursor);
      if (locked.blockNumber !== cursor.blockNumber || locked.blockHash !== cursor.blockHash) throw new CursorMoved();
      const world = await loadWorld(tx, keysOf(events));
      for (const [k, v] of names) world.integrationNames.set(k, v);
      const before = snapshotRows(world);
      const result = applyEvents(world, events, { newId: () => newKsuid(), now: now() });
      const diff = diffWorld(before, world, result.touched);
      await writeChanges(tx, diff);
      await emitChainEvents(tx, diff, { publicBaseUrl: o.publicBaseUrl, now: now() });
      await recordBatch(tx, { blockNumber: to, blockHash: endHash }, undoLog(diff));
      await pruneBatches(tx, to - window, to);
      return { changes: diff, warnings: result.warnings };
    });
    for (const w of warnings) log.warn({ from: from.toString(), to: to.toString() }, `indexer: ${w}`);
    o.tracer?.indexed(logs.map((l) => l.transactionHash));
    if (events.length > 0) {
      const ms = { chain: Math.round(t1 - t0), database: Math.round(performance.now() - t1) };
      log.debug?.({ from: from.toString(), to: to.toString(), events: events.length, rows: changes.length, ms }, 'indexer: batch applied');
    }
    return { applied: events.length, toBlock: to, caughtUp: to >= safe };
  }

  async function tick(): Promise<TickResult> {
    try {
      return await tickOnce();
    } catch (err) {
      if (err instanceof CursorMoved) {
        const cursor = await readCursor(database.db);
        return { applied: 0, toBlock: cursor?.blockNumber ?? startBlock, caughtUp: false };
      }
      throw err;
    }
  }

  const worker = createWorkerLoop({
    tick,
    pauseAfter: (r) => (r.caughtUp ? pollMs : 0),
    minBackoffMs: pollMs,
    maxBackoffMs,
    probeIntervalMs,
    probe: (component) => (component === 'chain' ? pc.getBlockNumber({ cacheTime: 0 }) : database.ping()),
    onRecovered: (was) => log.info({ component: was.lastFailure!.component }, 'indexer: ticks succeed again'),
    onFailed(err, kind) {
      // Every failure while it repeats is worth a line here (a stuck cursor hides otherwise), but
      // an outage is logged once, naming the component.
      if (!kind.first && kind.unavailable) return;
      const level = err instanceof ChainDivergedError || !kind.unavailable ? 'error' : 'warn';
      log[level]({ component: kind.component, err: failureMessage(err) }, `indexer: tick failed (${describeFailure(kind)}); retrying`);
    },
  });

  return {
    start: worker.start,
    stop: worker.stop,
    tick,
    wake: worker.wake,
    lastError: worker.lastError,
    health: worker.health,
  };
}
