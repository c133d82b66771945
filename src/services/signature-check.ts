// Does a client-supplied signature over an EIP-712 digest come from a given account? ECDSA for an
// externally owned account; ERC-1271 `isValidSignature` for a contract wallet. Answers which bytes
// to relay (the normalised ECDSA form, or whichever form the wallet accepts), or who did sign.
import { recoverAddress, type Address, type Hex } from 'viem';
import type { ChainContext } from '../chain/context.ts';
import { isRpcUnavailable } from '../chain/errors.ts';
import { parseSignature } from '../domain/signature.ts';
import { badRequest, serviceUnavailable } from '../errors.ts';

const ERC1271_ABI = [
  {
    type: 'function',
    name: 'isValidSignature',
    stateMutability: 'view',
    inputs: [
      { name: 'hash', type: 'bytes32' },
      { name: 'signature', type: 'bytes' },
    ],
    outputs: [{ name: '', type: 'bytes4' }],
  },
] as const;
const ERC1271_MAGIC = '0x1626ba7e';

export type SignatureCheck = { ok: true; bytes: Hex } | { ok: false; signer: Address | null };

/** Chain calls from a request: an unreachable node is a 503, never a hang or a 500. */
export async function onChain<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isRpcUnavailable(err)) throw serviceUnavailable(`The chain is unavailable (${what}); try again shortly.`);
    throw err;
  }
}

/**
 * Checks `signature` (field `field` of the body) over `digest` against `expected`. Malformed
 * bytes are a 400 naming the field; a well-formed signature by someone else is `{ok: false}` with
 * the ECDSA signer, so the caller can say who signed.
 */
export async function checkSignature(
  chain: Pick<ChainContext, 'publicClient'>,
  field: string,
  digest: Hex,
  expected: Address,
  signature: unknown,
): Promise<SignatureCheck> {
  const parsed = parseSignature(signature);
  if (!parsed.ok) throw badRequest(`${field} ${parsed.reason}.`);
  let signer: Address | null = null;
  try {
    signer = await recoverAddress({ hash: digest, signature: parsed.bytes });
  } catch {
    signer = null;
  }
  if (signer && signer.toLowerCase() === expected.toLowerCase()) return { ok: true, bytes: parsed.bytes };

  const code = await onChain('reading the signer account', () => chain.publicClient.getCode({ address: expected }));
  if (code && code !== '0x') {
    for (const candidate of [parsed.raw, parsed.bytes]) {
      const result = await onChain('checking the wallet signature', async () => {
        try {
          return await chain.publicClient.readContract({ address: expected, abi: ERC1271_ABI, functionName: 'isValidSignature', args: [digest, candidate] });
        } catch (err) {
          if (isRpcUnavailable(err)) throw err;
          return null; // reverted, or not an ERC-1271 wallet
        }
      });
      if (result?.toLowerCase() === ERC1271_MAGIC) return { ok: true, bytes: candidate };
    }
  }
  return { ok: false, signer };
}
