// `dev sign --serial <s> <payload.json|->`: signs a registry EIP-712 payload with a demo device's
// key (derived from the public dev mnemonic, see chain/dev-keys.ts), standing in for the dongle.
// Development only: such keys are public, so real devices never use them.
import type { Address, Hex } from 'viem';
import { parsePayload, toViemTypedData } from '../domain/eip712.ts';
import { createDevKeyDeriver } from '../chain/dev-keys.ts';
import type { ChainFile } from '../chain/embedded.ts';
import { CliError } from './chain-access.ts';

export interface DevSignInput {
  serial: string;
  payloadText: string;
  chainFile: ChainFile | undefined;
  /** The key address the registry holds for an aftermarket device node; the zero address for none. */
  deviceAddress(node: bigint): Promise<Address>;
}

export async function devSign(o: DevSignInput): Promise<Hex> {
  let json: unknown;
  try {
    json = JSON.parse(o.payloadText);
  } catch {
    throw new CliError('The payload is not JSON. Pass the body of a GET …/commands/* answer (a file path, or - for stdin).');
  }
  const payload = parsePayload(json);
  if (!payload) {
    throw new CliError('The payload is not one of the registry\'s EIP-712 payloads (expected {"types","primaryType","domain","message"} as a GET …/commands/* route returns it).');
  }
  const f = o.chainFile;
  if (f && (payload.domain.chainId !== f.chainId || payload.domain.verifyingContract.toLowerCase() !== f.deployment.registry.toLowerCase())) {
    throw new CliError(
      `The payload is for registry ${payload.domain.verifyingContract} on chain ${payload.domain.chainId}, but this DATA_DIR's chain is ` +
        `${f.deployment.registry} on chain ${f.chainId}; a signature for another registry would be rejected.`,
    );
  }
  // CHAIN.md §1: the device key co-signs claims and pairings across owners, nothing else.
  if (payload.primaryType !== 'ClaimAftermarketDeviceSign' && payload.primaryType !== 'PairAftermarketDeviceSign') {
    throw new CliError(`dev sign signs as a device, and a device signs only ClaimAftermarketDeviceSign and PairAftermarketDeviceSign payloads, not ${payload.primaryType}.`);
  }
  let account;
  try {
    account = createDevKeyDeriver().accountFor(o.serial);
  } catch (e) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
  const node = BigInt(payload.message.aftermarketDeviceNode);
  const registered = await o.deviceAddress(node);
  if (BigInt(registered) === 0n) throw new CliError(`The payload is for aftermarket device ${node}, which is not on the registry.`);
  if (registered.toLowerCase() !== account.address.toLowerCase()) {
    throw new CliError(
      `The payload is for aftermarket device ${node}, whose key is ${registered}, but the dev key of serial "${o.serial}" is ` +
        `${account.address}; the registry would reject this signature. Pass the serial device ${node} was minted with.`,
    );
  }
  // The field tables are checked by parsePayload; viem's literal-type inference cannot follow a union of primary types.
  const typed = toViemTypedData(payload) as unknown as Parameters<typeof account.signTypedData>[0];
  return account.signTypedData(typed);
}
