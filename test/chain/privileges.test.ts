// Signed sharing on the registry: setPrivilegesSign checks the vehicle owner's SetPrivilegesSign
// signature and its nonce, and the vehicle NFT emits PrivilegeSet per id as for a direct grant.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getAddress, parseEventLogs, type Address, type Hex, type LocalAccount, type TransactionReceipt } from 'viem';
import { erc1271WalletAbi, erc1271WalletBytecode, nodeNftAbi } from '../../src/chain/abi/index.ts';
import { roleId } from '../../src/chain/deploy.ts';
import { setPrivilegesPayload, toViemTypedData } from '../../src/domain/eip712.ts';
import { assertReverts, eventsOf, revertChainAfterEachTest, startChain, type ChainFixture } from './helpers.ts';

const ATTRS = [
  { attribute: 'Make', info: 'Ford' },
  { attribute: 'Model', info: 'Bronco' },
  { attribute: 'Year', info: '2021' },
];
const DD = 'ford_bronco_2021';
const FAR = 2n ** 40n;

interface Grant {
  tokenId: bigint;
  privIds: readonly bigint[];
  user: Address;
  expires: bigint;
  nonce: bigint;
}

describe('setPrivilegesSign: owner-signed, relayed privilege grants', () => {
  let c: ChainFixture;
  let ford: bigint;

  before(async () => {
    c = await startChain();
    ford = c.seed.manufacturers.AutoPi ?? 0n;
  });
  after(async () => {
    await c?.stop();
  });
  revertChainAfterEachTest(() => c);

  async function mintVehicle(owner: Address, signer: LocalAccount): Promise<bigint> {
    const sig = await c.sign(signer, 'MintVehicleWithDeviceDefinitionSign', {
      manufacturerNode: ford,
      owner,
      deviceDefinitionId: DD,
      attributes: ATTRS.map((a) => a.attribute),
      infos: ATTRS.map((a) => a.info),
    });
    const receipt = await c.send(c.accounts.relayer, 'mintVehicleWithDeviceDefinitionSign', [ford, owner, DD, ATTRS, sig]);
    return eventsOf(receipt, 'VehicleNodeMintedWithDeviceDefinition')[0]?.args.vehicleId as bigint;
  }

  const nftRead = (functionName: 'privilegeNonce' | 'hasPrivilege' | 'privilegeExpiresAt', args: readonly unknown[]) =>
    c.publicClient.readContract({ address: c.deployment.vehicleId, abi: nodeNftAbi, functionName, args: args as never }) as Promise<unknown>;

  const nonceOf = (tokenId: bigint, user: Address) => nftRead('privilegeNonce', [tokenId, user]) as Promise<bigint>;
  const has = (tokenId: bigint, privId: bigint, user: Address) => nftRead('hasPrivilege', [tokenId, privId, user]) as Promise<boolean>;

  async function grantFor(tokenId: bigint, privIds: readonly bigint[], user: Address, expires = FAR): Promise<Grant> {
    return { tokenId, privIds, user, expires, nonce: await nonceOf(tokenId, user) };
  }

  const sign = (signer: LocalAccount, g: Grant) => c.sign(signer, 'SetPrivilegesSign', { ...g });
  const args = (g: Grant, signature: Hex) => [g.tokenId, g.privIds, g.user, g.expires, g.nonce, signature] as const;
  const privilegeEvents = (receipt: TransactionReceipt) =>
    parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' }).map((e) => [e.address.toLowerCase(), e.args]);

  it('grants every signed privilege, one PrivilegeSet per id from the vehicle NFT, and moves the nonce', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n, 3n], bob.address);
    assert.equal(g.nonce, 0n);

    const receipt = await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(alice, g)));

    const nft = c.deployment.vehicleId.toLowerCase();
    assert.deepEqual(privilegeEvents(receipt), [
      [nft, { tokenId: vehicle, version: 0n, privId: 1n, user: bob.address, expires: FAR }],
      [nft, { tokenId: vehicle, version: 0n, privId: 3n, user: bob.address, expires: FAR }],
    ]);
    assert.equal(await has(vehicle, 1n, bob.address), true);
    assert.equal(await has(vehicle, 3n, bob.address), true);
    assert.equal(await has(vehicle, 2n, bob.address), false);
    assert.equal(await nonceOf(vehicle, bob.address), 1n);
  });

  it('accepts a signature made from the service’s JSON payload exactly as a wallet would', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n], bob.address);
    const payload = setPrivilegesPayload({ chainId: c.chainId, verifyingContract: c.deployment.registry }, g);
    const typed = toViemTypedData(JSON.parse(JSON.stringify(payload)) as typeof payload);
    const signature = await alice.signTypedData(typed);

    const receipt = await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, signature));
    assert.equal(privilegeEvents(receipt).length, 8);
  });

  it('reverts with InvalidOwnerSignature when someone other than the owner signed', async () => {
    const { alice, bob, stranger } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n], stranger.address);
    for (const signer of [bob, stranger]) {
      await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(signer, g))), 'InvalidOwnerSignature');
    }
  });

  it('refuses to replay a used signature (the nonce moved)', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n], bob.address);
    const signature = await sign(alice, g);
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, signature));
    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(g, signature)), 'InvalidPrivilegeNonce', [vehicle, bob.address, 1n]);
  });

  it('revokes with expires 0, and the earlier grant cannot be replayed afterwards', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const grant = await grantFor(vehicle, [1n, 3n], bob.address);
    const grantSig = await sign(alice, grant);
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(grant, grantSig));

    const revoke = await grantFor(vehicle, [1n, 3n], bob.address, 0n);
    assert.equal(revoke.nonce, 1n);
    const receipt = await c.send(c.accounts.relayer, 'setPrivilegesSign', args(revoke, await sign(alice, revoke)));
    assert.deepEqual(
      privilegeEvents(receipt).map(([, e]) => e),
      [1n, 3n].map((privId) => ({ tokenId: vehicle, version: 0n, privId, user: bob.address, expires: 0n })),
    );
    assert.equal(await has(vehicle, 1n, bob.address), false);
    assert.equal(await has(vehicle, 3n, bob.address), false);

    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(grant, grantSig)), 'InvalidPrivilegeNonce', [vehicle, bob.address, 2n]);
  });

  it('treats an expiry in the past as a revocation', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [4n], bob.address, 1n);
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(alice, g)));
    assert.equal(await has(vehicle, 4n, bob.address), false);
  });

  it('refuses a signature used for another token, user, privilege list or expiry', async () => {
    const { alice, bob, carol } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const other = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n, 3n], bob.address);
    const signature = await sign(alice, g);
    // Every variant has nonce 0 too, so only the signature can tell them apart.
    const variants: Grant[] = [
      { ...g, tokenId: other },
      { ...g, user: carol.address },
      { ...g, privIds: [1n] },
      { ...g, privIds: [3n, 1n] },
      { ...g, privIds: [1n, 2n, 3n] },
      { ...g, expires: g.expires + 1n },
    ];
    for (const v of variants) {
      await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(v, signature)), 'InvalidOwnerSignature');
    }
  });

  it('refuses a caller without SET_PRIVILEGES_ROLE', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n], bob.address);
    const signature = await sign(alice, g);
    for (const caller of [alice, bob]) {
      await assertReverts(
        c.simulate(caller, 'setPrivilegesSign', args(g, signature)),
        'AccessControlUnauthorizedAccount',
        [caller.address, roleId('SET_PRIVILEGES_ROLE')],
      );
    }
  });

  it('reverts with InvalidNode for a vehicle that does not exist', async () => {
    const { alice, bob } = c.accounts;
    const g: Grant = { tokenId: 999n, privIds: [1n], user: bob.address, expires: FAR, nonce: 0n };
    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(alice, g))), 'InvalidNode', [
      c.deployment.vehicleId,
      999n,
    ]);
  });

  it('keeps nonces per grantee, so shares with different users do not wait on each other', async () => {
    const { alice, bob, carol } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const toBob = await grantFor(vehicle, [1n], bob.address);
    const toCarol = await grantFor(vehicle, [3n], carol.address);
    const bobSig = await sign(alice, toBob);
    const carolSig = await sign(alice, toCarol);
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(toBob, bobSig));
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(toCarol, carolSig));
    assert.equal(await has(vehicle, 1n, bob.address), true);
    assert.equal(await has(vehicle, 3n, carol.address), true);
  });

  it('voids a signed grant once the owner changes that user’s privileges directly', async () => {
    const { alice, bob } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n], bob.address);
    const signature = await sign(alice, g);
    const hash = await c.wallet(alice).writeContract({
      address: c.deployment.vehicleId,
      abi: nodeNftAbi,
      functionName: 'setPrivilege',
      args: [vehicle, 1n, bob.address, 0n],
      account: alice,
      chain: undefined,
    });
    assert.equal((await c.publicClient.waitForTransactionReceipt({ hash })).status, 'success');
    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(g, signature)), 'InvalidPrivilegeNonce', [vehicle, bob.address, 1n]);
  });

  it('drops signed grants when the vehicle changes hands, and takes only the new owner’s signature', async () => {
    const { alice, bob, carol } = c.accounts;
    const vehicle = await mintVehicle(alice.address, alice);
    const g = await grantFor(vehicle, [1n], bob.address);
    await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(alice, g)));
    const hash = await c.wallet(alice).writeContract({
      address: c.deployment.vehicleId,
      abi: nodeNftAbi,
      functionName: 'transferFrom',
      args: [alice.address, carol.address, vehicle],
      account: alice,
      chain: undefined,
    });
    assert.equal((await c.publicClient.waitForTransactionReceipt({ hash })).status, 'success');
    assert.equal(await has(vehicle, 1n, bob.address), false);

    const again = await grantFor(vehicle, [1n], bob.address);
    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(again, await sign(alice, again))), 'InvalidOwnerSignature');
    const receipt = await c.send(c.accounts.relayer, 'setPrivilegesSign', args(again, await sign(carol, again)));
    // The grant lives under the NFT's new version, which is what dropped the earlier ones.
    assert.equal(parseEventLogs({ abi: nodeNftAbi, logs: receipt.logs, eventName: 'PrivilegeSet' })[0]?.args.version, 1n);
    assert.equal(await has(vehicle, 1n, bob.address), true);
  });

  it('accepts an ERC-1271 contract-wallet owner’s signature', async () => {
    const { alice, bob } = c.accounts;
    const deployHash = await c.wallet(alice).deployContract({
      abi: erc1271WalletAbi,
      bytecode: erc1271WalletBytecode,
      args: [alice.address],
      account: alice,
      chain: undefined,
    });
    const deployed = (await c.publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress;
    assert.ok(deployed);
    const wallet = getAddress(deployed);
    const vehicle = await mintVehicle(wallet, alice);

    const g = await grantFor(vehicle, [2n], bob.address);
    const receipt = await c.send(c.accounts.relayer, 'setPrivilegesSign', args(g, await sign(alice, g)));
    assert.equal(privilegeEvents(receipt).length, 1);
    assert.equal(await has(vehicle, 2n, bob.address), true);

    const next = await grantFor(vehicle, [3n], bob.address);
    await assertReverts(c.simulate(c.accounts.relayer, 'setPrivilegesSign', args(next, await sign(bob, next))), 'InvalidOwnerSignature');
  });
});
