import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { toFunctionSelector, type Account, type Hex } from 'viem';
import { startChain, type ChainFixture } from './helpers.ts';
import { createChainContext } from '../../src/chain/context.ts';
import { roleId, type RegistryDeployment } from '../../src/chain/deploy.ts';
import { assertChainUsable, chainProblems, chainReadiness, ChainStartupError, redactUrl } from '../../src/chain/startup-checks.ts';

let fx: ChainFixture;

before(async () => {
  fx = await startChain();
});
after(async () => {
  await fx?.stop();
});

function ctx(o: { chainId?: number; deployment?: Partial<RegistryDeployment>; relayer?: Account; rpcUrl?: string } = {}) {
  return createChainContext({
    rpcUrl: o.rpcUrl ?? fx.anvil.rpcUrl,
    chainId: o.chainId ?? fx.chainId,
    deployment: { ...fx.deployment, ...o.deployment },
    relayerAccount: o.relayer ?? fx.accounts.relayer,
    confirmations: 1,
  });
}

/** Runs `fn` on the chain and reverts whatever it changed afterwards. */
async function withSnapshot(fn: () => Promise<void>): Promise<void> {
  const id = await fx.testClient.snapshot();
  try {
    await fn();
  } finally {
    await fx.testClient.revert({ id });
  }
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('chain startup checks', () => {
  it('find nothing wrong with a deployed registry and a funded relayer holding its roles', async () => {
    assert.deepEqual(await chainProblems(ctx()), []);
    await assertChainUsable(ctx());
  });

  it('refuse a node that serves another chain id', async () => {
    const problems = await chainProblems(ctx({ chainId: 137 }));
    assert.deepEqual(problems, [`the RPC at ${fx.anvil.rpcUrl} serves chain id ${fx.chainId}, but CHAIN_ID is 137; point CHAIN_RPC_URL at the right network or fix CHAIN_ID`]);
  });

  it('refuse an RPC that does not answer', async () => {
    const rpcUrl = `http://127.0.0.1:${await closedPort()}/v1/secret-api-key`;
    const problems = await chainProblems(ctx({ rpcUrl }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^the chain RPC at http:\/\/127\.0\.0\.1:\d+\/… does not answer/);
    assert.ok(!problems[0]!.includes('secret-api-key'), 'the RPC path (often an API key) is not echoed');
  });

  it('name each address that has no contract', async () => {
    const nowhere = '0x000000000000000000000000000000000000dEaD';
    const problems = await chainProblems(ctx({ deployment: { vehicleId: nowhere, syntheticDeviceId: nowhere } }));
    assert.deepEqual(problems, [
      `no contract at VEHICLE_NFT_ADDRESS=${nowhere} on chain ${fx.chainId}; check the address and the network`,
      `no contract at SYNTHETIC_DEVICE_NFT_ADDRESS=${nowhere} on chain ${fx.chainId}; check the address and the network`,
    ]);
  });

  it('stop at a registry address without code (nothing else can be read from it)', async () => {
    const problems = await chainProblems(ctx({ deployment: { registry: '0x000000000000000000000000000000000000dEaD' } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^no contract at REGISTRY_ADDRESS=/);
  });

  it('notice NFT addresses that are contracts but not the ones the registry uses', async () => {
    const d = fx.deployment;
    const problems = await chainProblems(ctx({ deployment: { vehicleId: d.aftermarketDeviceId, aftermarketDeviceId: d.vehicleId } }));
    assert.deepEqual(problems, [
      `VEHICLE_NFT_ADDRESS=${d.aftermarketDeviceId} but the registry at ${d.registry} uses ${d.vehicleId}; set VEHICLE_NFT_ADDRESS=${d.vehicleId}`,
      `AFTERMARKET_DEVICE_NFT_ADDRESS=${d.vehicleId} but the registry at ${d.registry} uses ${d.aftermarketDeviceId}; set AFTERMARKET_DEVICE_NFT_ADDRESS=${d.aftermarketDeviceId}`,
    ]);
  });

  it('list the roles a relayer lacks', async () => {
    await withSnapshot(async () => {
      await fx.send(fx.accounts.deployer, 'revokeRole', [roleId('PAIR_AD_ROLE'), fx.accounts.relayer.address]);
      await fx.send(fx.accounts.deployer, 'revokeRole', [roleId('MINT_VEHICLE_ROLE'), fx.accounts.relayer.address]);
      const problems = await chainProblems(ctx());
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, new RegExp(`^the relayer ${fx.accounts.relayer.address} lacks the registry role\\(s\\) PAIR_AD_ROLE, MINT_VEHICLE_ROLE;`));
    });
  });

  it('say so when the registry predates signed privilege grants, instead of only asking for the role', async () => {
    await withSnapshot(async () => {
      const registry = fx.deployment.registry;
      await fx.send(fx.accounts.deployer, 'revokeRole', [roleId('SET_PRIVILEGES_ROLE'), fx.accounts.relayer.address]);
      let problems = await chainProblems(ctx());
      assert.equal(problems.length, 1, 'a current registry only lacks the grant');
      assert.match(problems[0]!, /lacks the registry role\(s\) SET_PRIVILEGES_ROLE;/);

      // The same contract without setPrivilegesSign, as an older deployment: its selector leaves the
      // dispatcher (PUSH4 selector EQ; a second PUSH4 of it, followed by GT, is a binary-search pivot).
      const selector = toFunctionSelector('setPrivilegesSign(uint256,uint256[],address,uint256,uint256,bytes)').slice(2);
      const code = (await fx.publicClient.getCode({ address: registry }))!.toLowerCase();
      const withoutIt = code.replaceAll(`63${selector}14`, '63ffffffff14').replaceAll(`63${selector}11`, `63${(parseInt(selector, 16) - 1).toString(16).padStart(8, '0')}11`);
      assert.notEqual(withoutIt, code);
      await fx.testClient.setCode({ address: registry, bytecode: withoutIt as Hex });
      problems = await chainProblems(ctx());
      assert.equal(problems.length, 2);
      assert.equal(
        problems[1],
        `the registry at ${registry} has no setPrivilegesSign (it was deployed before signed privilege grants); deploy the current contracts, or for the embedded chain delete DATA_DIR to start over`,
      );
    });
  });

  it('refuse a relayer key that is not the registry\'s relayer at all', async () => {
    const problems = await chainProblems(ctx({ relayer: fx.accounts.stranger }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /lacks the registry role\(s\) CLAIM_AD_ROLE, PAIR_AD_ROLE, UNPAIR_AD_ROLE, MINT_VEHICLE_ROLE, BURN_VEHICLE_ROLE, MINT_SD_ROLE, BURN_SD_ROLE, MINT_MANUFACTURER_ROLE, SET_PRIVILEGES_ROLE; .*RELAYER_PRIVATE_KEY is the wrong key/);
  });

  it('refuse a relayer without gas money, and one below a configured minimum', async () => {
    await withSnapshot(async () => {
      await fx.testClient.setBalance({ address: fx.accounts.relayer.address, value: 0n });
      assert.deepEqual(await chainProblems(ctx()), [
        `the relayer ${fx.accounts.relayer.address} has 0 of the native coin, less than the ${(await chainProblemsMin())} needed for gas; fund it`,
      ]);
      await fx.testClient.setBalance({ address: fx.accounts.relayer.address, value: 10n ** 18n });
      assert.deepEqual(await chainProblems(ctx()), []);
      const problems = await chainProblems(ctx(), { minBalanceWei: 2n * 10n ** 18n });
      assert.deepEqual(problems, [`the relayer ${fx.accounts.relayer.address} has 1 of the native coin, less than the 2 needed for gas; fund it`]);
    });
  });

  it('report every problem at once through ChainStartupError', async () => {
    const err = await assertChainUsable(ctx({ relayer: fx.accounts.stranger, deployment: { integrationId: '0x000000000000000000000000000000000000dEaD' } })).then(
      () => assert.fail('should refuse'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ChainStartupError);
    assert.equal(err.problems.length, 2);
    assert.match(err.message, /^The chain is not usable, so the service will not start:\n {2}- no contract at INTEGRATION_NFT_ADDRESS=.*\n {2}- the relayer .* lacks/);
  });

  it('make /ready fail while the node is unreachable', async () => {
    await chainReadiness(ctx())();
    const down = chainReadiness(ctx({ rpcUrl: `http://127.0.0.1:${await closedPort()}` }));
    await assert.rejects(down());
  });
});

describe('redactUrl', () => {
  it('keeps scheme, host and port only', () => {
    assert.equal(redactUrl('https://polygon-mainnet.g.alchemy.com/v2/KEY'), 'https://polygon-mainnet.g.alchemy.com/…');
    assert.equal(redactUrl('http://user:pw@127.0.0.1:8545'), 'http://127.0.0.1:8545/…');
    assert.equal(redactUrl('http://127.0.0.1:8545'), 'http://127.0.0.1:8545');
  });
});

/** The default minimum as the check computes it (10 calls × 500k gas × gas price), in ether. */
async function chainProblemsMin(): Promise<string> {
  const { formatEther } = await import('viem');
  return formatEther(10n * 500_000n * (await fx.publicClient.getGasPrice()));
}
