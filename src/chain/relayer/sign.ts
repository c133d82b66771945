// Step 2, sign: a nonce and no signed bytes → sign locally, store signedTx and hash =
// keccak(signedTx) once (compare-and-set: a row's signed bytes never change afterwards, so there
// is only ever one transaction per request).
import { keccak256, type Hex } from 'viem';
import type { RelayerContext } from './context.ts';

/** The relayer account's own signer; it must sign locally (a local or KMS-backed account). */
export function signerOf(ctx: Pick<RelayerContext, 'chain'>) {
  const account = ctx.chain.relayer.account;
  if (!('signTransaction' in account) || typeof account.signTransaction !== 'function') {
    throw new Error('relayer: the relayer account must sign transactions itself (a local or KMS-backed account)');
  }
  return account.signTransaction.bind(account);
}

export type SignTransaction = ReturnType<typeof signerOf>;

export async function signPass(ctx: RelayerContext, signTransaction: SignTransaction): Promise<number> {
  const rows = await ctx.store.awaitingSignature(ctx.batchSize);
  if (rows.length === 0) return 0;
  const signed = await Promise.all(
    rows.map(async (row) => {
      const signedTx = await signTransaction({
        type: 'eip1559',
        chainId: ctx.chain.chainId,
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
  const stored = await ctx.store.storeSigned(signed);
  await ctx.afterStep?.('signed', signed.map((s) => s.id));
  return stored;
}
