// Reading chain errors: revert data → human reason (the registry's custom errors), and "is the
// RPC unavailable?" (→ the API answers 503 and the relayer keeps requests queued).
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  HttpRequestError,
  TimeoutError,
  SocketClosedError,
  type Abi,
  type Hex,
} from 'viem';
import { dimoRegistryAbi } from './abi/index.ts';
import { DEV_ROLE_NAMES, RELAYER_ROLE_NAMES, roleId, type RegistryDeployment, type RoleName } from './deploy.ts';
import type { ChainContext } from './context.ts';
import { revertSentence, unknownRevertSentence, type RevertContext } from '../domain/revert-reasons.ts';

/** The node could not be reached (or answered with an HTTP error): nothing about the call itself is known. */
export class ChainUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChainUnavailableError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
// JSON-RPC answers that mean "the node is there but not serving": rate limits, overload.
const UNAVAILABLE_RPC_CODES = new Set([-32005, 429]);

/** True when `err` means the RPC endpoint is unreachable or not serving (connection, HTTP status, timeout). */
export function isRpcUnavailable(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    if (e instanceof ChainUnavailableError) return true;
    if (e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof SocketClosedError) return true;
    if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
    if (typeof e.code === 'number' && UNAVAILABLE_RPC_CODES.has(e.code)) return true;
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return true;
  }
  return false;
}

/**
 * Readiness check for the chain: one cheap call (`eth_blockNumber`). Rejects with
 * ChainUnavailableError when the node cannot be reached, so a route can answer 503.
 */
export async function checkChain(chain: Pick<ChainContext, 'publicClient'>): Promise<bigint> {
  try {
    return await chain.publicClient.getBlockNumber({ cacheTime: 0 });
  } catch (err) {
    throw new ChainUnavailableError(`The chain RPC is unavailable: ${shortMessage(err)}`, { cause: err });
  }
}

export function shortMessage(err: unknown): string {
  if (err instanceof BaseError) return err.details || err.shortMessage;
  return err instanceof Error ? err.message : String(err);
}

/** The revert data carried by a viem error from eth_call / eth_estimateGas, if the node sent any. */
export function revertDataOf(err: unknown): Hex | undefined {
  for (let e: any = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    const d = e.data;
    if (typeof d === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(d)) return d as Hex;
    if (d && typeof d === 'object' && typeof d.data === 'string' && d.data.startsWith('0x')) return d.data as Hex;
  }
  return undefined;
}

/** True when the node does not offer the JSON-RPC method (so a fallback should be used). */
export function isMethodUnsupported(err: unknown): boolean {
  for (let e: any = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    if (e.code === -32601 || e.code === -32004) return true;
    const text = `${e.details ?? ''} ${e.message ?? ''}`;
    if (/method not found|not supported|unsupported method|does not exist|is not available/i.test(text)) return true;
  }
  return false;
}

/** True when the error is an execution revert (as opposed to a transport or node failure). */
export function isExecutionRevert(err: unknown): boolean {
  if (isRpcUnavailable(err)) return false;
  if (err instanceof BaseError && err.walk((e) => e instanceof ContractFunctionRevertedError)) return true;
  if (revertDataOf(err) !== undefined) return true;
  for (let e: any = err, depth = 0; e && depth < 10; e = e.cause, depth++) {
    // JSON-RPC 3 is "execution reverted"; some nodes send -32000 with the words only.
    if (e.code === 3) return true;
    const text = `${e.details ?? ''} ${e.message ?? ''}`;
    if (/execution reverted|reverted|revert/i.test(text)) return true;
  }
  return false;
}

const NODE_NAMES: Readonly<Record<Exclude<keyof RegistryDeployment, 'registry' | 'deployBlock'>, string>> = {
  vehicleId: 'Vehicle',
  aftermarketDeviceId: 'Aftermarket device',
  syntheticDeviceId: 'Synthetic device',
  manufacturerId: 'Manufacturer',
  integrationId: 'Integration',
};

/** Names for addresses and role ids appearing in the registry's errors. */
export function revertContextFor(deployment: RegistryDeployment): RevertContext {
  const nodeNames: Record<string, string> = {};
  for (const [key, name] of Object.entries(NODE_NAMES)) {
    const address = deployment[key as keyof typeof NODE_NAMES];
    if (address) nodeNames[address.toLowerCase()] = name;
  }
  const roles: RoleName[] = [...RELAYER_ROLE_NAMES, ...DEV_ROLE_NAMES, 'MINT_INTEGRATION_ROLE'];
  const roleNames = Object.fromEntries(roles.map((r) => [roleId(r).toLowerCase(), r]));
  return { nodeNames, roleNames };
}

const registryAbi: Abi = dimoRegistryAbi;

/** Human reason for raw revert data (custom error, Error(string), Panic, or unknown). */
export function reasonFromRevertData(data: Hex | undefined, ctx: RevertContext = {}): string {
  if (!data || data === '0x') return unknownRevertSentence(data);
  try {
    const decoded = decodeErrorResult({ abi: registryAbi, data });
    return revertSentence({ errorName: decoded.errorName, args: decoded.args ?? [] }, ctx);
  } catch {
    return unknownRevertSentence(data);
  }
}

/** Human reason for a failed simulation, or undefined when the error is not a revert. */
export function revertReasonOf(err: unknown, ctx: RevertContext = {}): string | undefined {
  if (!isExecutionRevert(err)) return undefined;
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      return revertSentence({ errorName: reverted.data.errorName, args: reverted.data.args ?? [] }, ctx);
    }
  }
  return reasonFromRevertData(revertDataOf(err), ctx);
}
