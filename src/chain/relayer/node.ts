// The relayer's calls to the chain node. Its own client with JSON-RPC batching: the calls of a
// pass issued together (simulations, sends, receipts) travel in one HTTP request, which roughly
// halves the cost per call. A failure that means "the node is down" becomes ChainUnavailableError,
// which aborts the tick; every other error is the caller's to classify.
import { createPublicClient, hexToBigInt, http, type Hex, type PublicClient } from 'viem';
import type { ChainContext } from '../context.ts';
import type { Fees } from '../relayer-store.ts';
import { ChainUnavailableError, isMethodUnsupported, isRpcUnavailable, shortMessage } from '../errors.ts';
import { feeCap } from '../../domain/relay-state.ts';

export type Broadcast = { sent: true } | { sent: false; err: unknown } | { sent: 'untried' };

export type RelayerNode = ReturnType<typeof createRelayerNode>;

/** `rpcBatchSize` 0 sends each call alone, through `chain.publicClient`. */
export function createRelayerNode(chain: ChainContext, rpcBatchSize: number) {
  const pc: PublicClient =
    rpcBatchSize > 0
      ? createPublicClient({
          chain: chain.chain,
          transport: http(chain.rpcUrl, { batch: { batchSize: rpcBatchSize, wait: 0 }, timeout: 10_000, retryCount: 1 }),
          cacheTime: 0,
        })
      : chain.publicClient;

  /** RPC failures that mean "down" abort the tick; everything else is the caller's to classify. */
  async function rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isRpcUnavailable(err)) throw new ChainUnavailableError(`chain RPC unavailable (${what}): ${shortMessage(err)}`, { cause: err });
      throw err;
    }
  }

  /** `call`, with an error that is not an outage turned into `fallback(err)`. */
  const unlessDown = <T>(what: string, call: () => Promise<T>, fallback: (err: unknown) => T | Promise<T>) =>
    rpc(what, () =>
      call().catch((err: unknown) => {
        if (isRpcUnavailable(err)) throw err;
        return fallback(err);
      }),
    );

  /**
   * Fees from the latest block. (Not the pending block: a node builds that by executing its whole
   * pool, which on anvil costs more than the transactions themselves. The fee cap's head-room
   * covers the base fee's growth over the next blocks.)
   */
  async function currentFees(): Promise<Fees> {
    const block = await rpc('getBlock', () => pc.getBlock({ blockTag: 'latest' }));
    if (block.baseFeePerGas === null) throw new Error('relayer: the chain has no EIP-1559 base fee; only EIP-1559 chains are supported');
    const base = block.baseFeePerGas;
    // Nodes without the method: the tip is what the legacy gas price adds over the base fee.
    const priority = await unlessDown(
      'eth_maxPriorityFeePerGas',
      () => pc.request({ method: 'eth_maxPriorityFeePerGas' }).then(hexToBigInt),
      async () => {
        const gasPrice = await pc.getGasPrice();
        return gasPrice > base ? gasPrice - base : 0n;
      },
    );
    return { maxFeePerGas: feeCap(base, priority), maxPriorityFeePerGas: priority };
  }

  const txKnown = (hash: Hex): Promise<boolean> =>
    unlessDown(
      'getTransaction',
      () => pc.getTransaction({ hash }).then(() => true),
      () => false,
    );

  async function sendRaw(signedTx: Hex): Promise<void> {
    await rpc('sendRawTransaction', () => pc.sendRawTransaction({ serializedTransaction: signedTx }));
  }

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

  const receiptOf = (hash: Hex) =>
    unlessDown(
      'getTransactionReceipt',
      () => pc.getTransactionReceipt({ hash }),
      (err) => {
        if (err instanceof Error && err.name === 'TransactionReceiptNotFoundError') return null;
        throw err;
      },
    );

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

  /** eth_call at `block`; resolves when the call succeeds, rejects with the node's error (the revert) otherwise. */
  async function call(params: { from: Hex; to: Hex; data: Hex; gas?: Hex }, block: Hex | 'latest'): Promise<void> {
    await rpc('eth_call', () => pc.request({ method: 'eth_call', params: [params, block] }));
  }

  return { pc, rpc, currentFees, txKnown, sendRaw, broadcastInOrder, receiptOf, gasUsedBy, call };
}
