// The rules every command relayed through the registry shares (claim, pair, unpair, vehicle
// mint, synthetic mint, setPrivileges): where its EIP-712 payload is verified, whose wallet signs
// it, what "minted" means, and how a signature mismatch is told. Pure: the enqueue is
// services/registry-command.ts.
import { getAddress, type Address } from 'viem';
import type { RegistryDomainInput } from './eip712.ts';
import { conflict } from '../errors.ts';

/** The registry on this chain: the domain every relayed payload is signed for. */
export function registryDomain(chain: { chainId: number; deployment: { registry: Address } }): RegistryDomainInput {
  return { chainId: chain.chainId, verifyingContract: chain.deployment.registry };
}

/** The caller's wallet; 409 when the account has none (`then`: what to do with it, e.g. "claim the device"). */
export function requireAddress(user: { address?: Address | null }, then: string): Address {
  if (!user.address) throw conflict(`Your account has no Ethereum address; add a wallet to your account, then ${then} with that wallet.`);
  return user.address;
}

/** A minted vehicle: its token id and NFT owner. */
export interface MintedVehicle {
  tokenId: bigint;
  owner: Address;
}

/** The vehicle's token and NFT owner; 409 until its mint is indexed. */
export function requireMinted(row: { tokenId: bigint | null; ownerAddress: string | null }): MintedVehicle {
  if (row.tokenId === null || row.ownerAddress === null) throw conflict('Vehicle not yet minted.');
  return { tokenId: row.tokenId, owner: getAddress(row.ownerAddress) };
}

/** 409 unless `after` (re-read under the row lock) is still the vehicle `before` was. */
export function requireSameVehicle(before: MintedVehicle, after: { tokenId: bigint | null; ownerAddress: string | null }): void {
  if (after.tokenId !== before.tokenId || after.ownerAddress?.toLowerCase() !== before.owner.toLowerCase()) {
    throw conflict('The vehicle changed meanwhile (token or owner); fetch the payload again.');
  }
}

/** An absent or empty signature field: the client asks for the payload (SDK form) or forgot it. */
export const isBlank = (s: string | undefined): s is undefined | '' => s === undefined || s === '';

/**
 * "; it was signed by X", with a hint when X is the other party of a two-signature command (the
 * usual mistake is to swap the two signatures).
 */
export function signedBy(signer: Address | null, other?: { address: string; name: string }): string {
  if (!signer) return '';
  const swapped = other && signer.toLowerCase() === other.address.toLowerCase() ? ` (${other.name}: are the two signatures swapped?)` : '';
  return `; it was signed by ${signer}${swapped}`;
}
