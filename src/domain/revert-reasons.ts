// Human sentences for the registry's custom errors: what a user sees as a transaction request's
// `failureReason` (and what a use case can show for a failed simulation). Pure: the caller decodes
// the revert data (src/chain/errors.ts) and passes the error name and arguments.
//
// The wording follows DIMO's translation table where it had one ("Aftermarket device 7 already
// claimed.", "Invalid aftermarket device signature.", "Vehicle 3 is paired.").

export interface DecodedRevert {
  errorName: string;
  args: readonly unknown[];
}

export interface RevertContext {
  /** Names of the NFT contracts by lower-case address, for InvalidNode(proxy, id): "Vehicle", … */
  nodeNames?: Readonly<Record<string, string>>;
  /** Role names by lower-case role id, for AccessControlUnauthorizedAccount. */
  roleNames?: Readonly<Record<string, string>>;
}

type Sentence = (args: readonly unknown[], ctx: RevertContext) => string;

/** Arguments come from chain data: render them plainly and never let one grow a reason unboundedly. */
const MAX_ARG_CHARS = 120;
function arg(args: readonly unknown[], i: number): string {
  const v = args[i];
  const s = typeof v === 'string' ? v : typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v) ?? 'undefined';
  const flat = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return flat.length > MAX_ARG_CHARS ? `${flat.slice(0, MAX_ARG_CHARS)}…` : flat;
}

function nodeName(proxy: unknown, ctx: RevertContext): string | undefined {
  return typeof proxy === 'string' ? ctx.nodeNames?.[proxy.toLowerCase()] : undefined;
}

/** One sentence per custom error of the registry ABI (a test checks that none is missing). */
export const REVERT_SENTENCES: Readonly<Record<string, Sentence>> = {
  // Registry
  AdNotClaimed: (a) => `Aftermarket device ${arg(a, 0)} is not claimed.`,
  AdNotPaired: (a) => `Aftermarket device ${arg(a, 0)} is not paired.`,
  AdPaired: (a) => `Aftermarket device ${arg(a, 0)} is already paired.`,
  AttributeExists: (a) => `Attribute ${arg(a, 0)} already exists.`,
  AttributeNotWhitelisted: (a) => `Attribute ${arg(a, 0)} is not whitelisted.`,
  DeviceAlreadyClaimed: (a) => `Aftermarket device ${arg(a, 0)} already claimed.`,
  DeviceAlreadyRegistered: (a) => `Device address ${arg(a, 0)} is already registered.`,
  EmptyName: () => 'The name must not be empty.',
  InvalidAdSignature: () => 'Invalid aftermarket device signature.',
  InvalidNode: (a, ctx) => {
    const name = nodeName(a[0], ctx);
    return name ? `${name} ${arg(a, 1)} does not exist.` : `Token ${arg(a, 1)} of contract ${arg(a, 0)} does not exist.`;
  },
  InvalidOwnerSignature: () => 'Invalid owner signature.',
  InvalidParentNode: (a) => `Manufacturer or integration ${arg(a, 0)} does not exist.`,
  // The nonce moved: the signature was already used, or the owner changed this user's privileges since.
  InvalidPrivilegeNonce: (a) =>
    `This privilege signature for ${arg(a, 1)} on vehicle ${arg(a, 0)} is used up or outdated; sign again with nonce ${arg(a, 2)}.`,
  InvalidSdSignature: () => 'Invalid synthetic device signature.',
  InvalidSigner: () => 'The signer is neither the vehicle owner nor the aftermarket device owner.',
  NameAlreadyRegistered: (a) => `The name ${arg(a, 0)} is already registered.`,
  NodeContractsAlreadySet: () => 'The node contracts are already set.',
  OwnersDoNotMatch: () => 'The vehicle and the aftermarket device have different owners.',
  Unauthorized: (a) => `Address ${arg(a, 0)} is not authorized to do this.`,
  VehicleNotPaired: (a) => `Vehicle ${arg(a, 0)} is not paired.`,
  VehiclePaired: (a) => `Vehicle ${arg(a, 0)} is already paired.`,
  ZeroAddress: () => 'The zero address is not allowed.',
  // OpenZeppelin AccessControl
  AccessControlBadConfirmation: () => 'Role renouncement was not confirmed by the account itself.',
  AccessControlUnauthorizedAccount: (a, ctx) => {
    const role = typeof a[1] === 'string' ? (ctx.roleNames?.[a[1].toLowerCase()] ?? a[1]) : arg(a, 1);
    return `Account ${arg(a, 0)} lacks the role ${role}.`;
  },
  // OpenZeppelin ERC-721
  ERC721IncorrectOwner: (a) => `Token ${arg(a, 1)} belongs to ${arg(a, 2)}, not ${arg(a, 0)}.`,
  ERC721InsufficientApproval: (a) => `${arg(a, 0)} is not approved to transfer token ${arg(a, 1)}.`,
  ERC721InvalidApprover: (a) => `${arg(a, 0)} cannot approve.`,
  ERC721InvalidOperator: (a) => `${arg(a, 0)} cannot be an operator.`,
  ERC721InvalidOwner: (a) => `${arg(a, 0)} cannot own a token.`,
  ERC721InvalidReceiver: (a) => `${arg(a, 0)} cannot receive tokens.`,
  ERC721InvalidSender: (a) => `${arg(a, 0)} cannot send tokens.`,
  ERC721NonexistentToken: (a) => `Token ${arg(a, 0)} does not exist.`,
  // OpenZeppelin ShortStrings (EIP-712 domain)
  InvalidShortString: () => 'Invalid short string.',
  StringTooLong: (a) => `String too long: ${arg(a, 0)}.`,
};

// Solidity's built-in Panic(uint256) codes.
const PANIC_CODES: Readonly<Record<string, string>> = {
  '1': 'assertion failed',
  '17': 'arithmetic overflow or underflow',
  '18': 'division by zero',
  '33': 'invalid enum value',
  '34': 'invalid storage byte array',
  '49': 'pop on an empty array',
  '50': 'array index out of bounds',
  '65': 'out of memory',
  '81': 'call to an invalid internal function',
};

/** The human reason for a decoded revert; unknown errors still name themselves. */
export function revertSentence(revert: DecodedRevert, ctx: RevertContext = {}): string {
  const sentence = REVERT_SENTENCES[revert.errorName];
  if (sentence) return sentence(revert.args, ctx);
  if (revert.errorName === 'Error') {
    const msg = arg(revert.args, 0).trim();
    return msg ? `Transaction reverted: ${msg}` : 'Transaction reverted.';
  }
  if (revert.errorName === 'Panic') {
    const code = arg(revert.args, 0);
    return `Transaction reverted: panic (${PANIC_CODES[code] ?? `code ${code}`}).`;
  }
  return `Transaction reverted: ${revert.errorName}.`;
}

/** Reason when the revert data matches no known error (or there is none). */
export function unknownRevertSentence(data: string | undefined): string {
  if (!data || data === '0x') return 'Transaction reverted without a reason.';
  const shown = data.length > 2 + 2 * 68 ? `${data.slice(0, 2 + 2 * 68)}…` : data;
  return `Transaction reverted: ${shown}`;
}
