import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readChainConfig, isMnemonic, parsePrivateKey, DEV_SYNTHETIC_WALLET_MNEMONIC, CONFIGURED_CONFIRMATIONS, indexerPollMs } from '../../src/chain/config.ts';
import { loadConfig } from '../../src/config.ts';
import { PRODUCTION_ENV } from '../helpers/production-env.ts';

const CONFIGURED: Record<string, string> = {
  CHAIN_RPC_URL: 'http://127.0.0.1:8545',
  CHAIN_ID: '31337',
  REGISTRY_ADDRESS: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
  VEHICLE_NFT_ADDRESS: '0x0000000000000000000000000000000000000002',
  AFTERMARKET_DEVICE_NFT_ADDRESS: '0x0000000000000000000000000000000000000003',
  SYNTHETIC_DEVICE_NFT_ADDRESS: '0x0000000000000000000000000000000000000004',
  MANUFACTURER_NFT_ADDRESS: '0x0000000000000000000000000000000000000005',
  INTEGRATION_NFT_ADDRESS: '0x0000000000000000000000000000000000000006',
  REGISTRY_DEPLOY_BLOCK: '12',
  RELAYER_PRIVATE_KEY: '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
};

function read(env: Record<string, string>, prod = false) {
  const problems: string[] = [];
  const config = readChainConfig(env, prod, problems);
  return { config, problems };
}

describe('chain settings', () => {
  it('default to the embedded anvil: automine, final once mined, a dev synthetic-wallet mnemonic', () => {
    const { config, problems } = read({});
    assert.deepEqual(problems, []);
    assert.equal(config.kind, 'embedded');
    assert.equal(config.confirmations, 0);
    assert.equal(config.kind === 'embedded' && config.blockTime, undefined);
    assert.equal(config.syntheticWalletMnemonic, DEV_SYNTHETIC_WALLET_MNEMONIC);
  });

  it('use the configured chain when CHAIN_RPC_URL is set, with checksummed addresses and 12 confirmations by default', () => {
    const { config, problems } = read(CONFIGURED);
    assert.deepEqual(problems, []);
    assert.equal(config.kind, 'configured');
    if (config.kind !== 'configured') return;
    assert.equal(config.chainId, 31337);
    assert.equal(config.deployment.registry, '0x5FbDB2315678afecb367f032d93F642f64180aa3');
    assert.equal(config.deployment.deployBlock, 12n);
    assert.equal(config.relayerPrivateKey, '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
    assert.equal(config.confirmations, CONFIGURED_CONFIRMATIONS);
  });

  it('poll a local anvil for new blocks more often than a remote node', () => {
    assert.ok(indexerPollMs(read({}).config) < indexerPollMs(read(CONFIGURED).config));
    assert.equal(indexerPollMs(read(CONFIGURED).config), 1000);
  });

  it('name every missing variable of a configured chain', () => {
    const { problems } = read({ CHAIN_RPC_URL: 'https://rpc.example' });
    for (const name of ['CHAIN_ID', 'REGISTRY_ADDRESS', 'VEHICLE_NFT_ADDRESS', 'AFTERMARKET_DEVICE_NFT_ADDRESS', 'SYNTHETIC_DEVICE_NFT_ADDRESS', 'MANUFACTURER_NFT_ADDRESS', 'INTEGRATION_NFT_ADDRESS', 'REGISTRY_DEPLOY_BLOCK', 'RELAYER_PRIVATE_KEY']) {
      assert.ok(problems.some((p) => p.startsWith(`${name} is required`)), `${name} not reported: ${problems.join(' | ')}`);
    }
  });

  it('reject malformed values, without quoting the relayer key', () => {
    const secret = 'ab'.repeat(31);
    const { problems } = read({
      ...CONFIGURED,
      CHAIN_RPC_URL: 'ftp://x',
      CHAIN_ID: 'mainnet',
      REGISTRY_ADDRESS: '0x1234',
      VEHICLE_NFT_ADDRESS: '0x5FbDB2315678afecb367f032d93F642f64180aA3',
      REGISTRY_DEPLOY_BLOCK: '-1',
      RELAYER_PRIVATE_KEY: secret,
      CHAIN_CONFIRMATIONS: 'many',
    });
    assert.ok(problems.some((p) => p.startsWith('CHAIN_RPC_URL must use http: or https:')));
    assert.ok(problems.some((p) => p.startsWith('CHAIN_ID must be an integer')));
    assert.ok(problems.some((p) => p.startsWith('REGISTRY_ADDRESS must be a 0x-prefixed 20-byte hex address')));
    assert.ok(problems.some((p) => p.startsWith('VEHICLE_NFT_ADDRESS has an invalid EIP-55 checksum')));
    assert.ok(problems.some((p) => p.startsWith('REGISTRY_DEPLOY_BLOCK must be a non-negative integer')));
    assert.ok(problems.some((p) => p.startsWith('RELAYER_PRIVATE_KEY must be a 32-byte hex private key')));
    assert.ok(problems.some((p) => p.startsWith('CHAIN_CONFIRMATIONS must be an integer')));
    assert.ok(problems.every((p) => !p.includes(secret)));
  });

  it('refuse registry settings without CHAIN_RPC_URL instead of silently ignoring them', () => {
    const { problems } = read({ REGISTRY_ADDRESS: CONFIGURED.REGISTRY_ADDRESS!, RELAYER_PRIVATE_KEY: CONFIGURED.RELAYER_PRIVATE_KEY! });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^REGISTRY_ADDRESS, RELAYER_PRIVATE_KEY apply only with CHAIN_RPC_URL/);
  });

  it('refuse anvil settings with a configured chain', () => {
    const { problems } = read({ ...CONFIGURED, ANVIL_BLOCK_TIME: '1' });
    assert.deepEqual(problems, ['ANVIL_BLOCK_TIME applies only to the embedded chain; unset it or unset CHAIN_RPC_URL']);
  });

  it('take the embedded block time, state interval and confirmations when given', () => {
    const { config, problems } = read({ ANVIL_BLOCK_TIME: '2', ANVIL_STATE_INTERVAL: '5', CHAIN_CONFIRMATIONS: '3', CHAIN_ID: '1337' });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      config.kind === 'embedded' && [config.blockTime, config.stateInterval, config.confirmations, config.chainId],
      [2, 5, 3, 1337],
    );
  });

  it('require CHAIN_RPC_URL and SYNTHETIC_WALLET_MNEMONIC in production', () => {
    const { problems } = read({}, true);
    assert.ok(problems.some((p) => p.startsWith('CHAIN_RPC_URL is required in production mode')));
    assert.ok(problems.some((p) => p.startsWith('SYNTHETIC_WALLET_MNEMONIC is required in production mode')));
  });

  it('accept the complete production environment through loadConfig', () => {
    const r = loadConfig(PRODUCTION_ENV);
    assert.ok(r.ok, r.ok ? '' : r.problems.join('; '));
    assert.equal(r.config.chain.kind, 'configured');
  });

  it('report chain problems through loadConfig with the others', () => {
    const { CHAIN_ID: _drop, ...env } = PRODUCTION_ENV;
    const r = loadConfig(env);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.problems.some((p) => p.startsWith('CHAIN_ID is required')));
  });
});

describe('parsePrivateKey', () => {
  it('accepts 64 hex digits with or without 0x, lower-casing them', () => {
    assert.equal(parsePrivateKey('0x' + 'AB'.repeat(32)), '0x' + 'ab'.repeat(32));
    assert.equal(parsePrivateKey('ab'.repeat(32)), '0x' + 'ab'.repeat(32));
  });
  it('rejects zero, values beyond the curve order and wrong lengths', () => {
    assert.equal(parsePrivateKey('0x' + '00'.repeat(32)), null);
    assert.equal(parsePrivateKey('0x' + 'ff'.repeat(32)), null);
    assert.equal(parsePrivateKey('0x' + 'ab'.repeat(31)), null);
    assert.equal(parsePrivateKey('0x' + 'zz'.repeat(32)), null);
  });
});

describe('isMnemonic', () => {
  it('accepts English BIP-39 word lists of 12 to 24 words', () => {
    assert.ok(isMnemonic(DEV_SYNTHETIC_WALLET_MNEMONIC));
    assert.ok(isMnemonic('test test test test test test test test test test test junk'));
  });
  it('rejects other words and counts', () => {
    assert.ok(!isMnemonic('hello world'));
    assert.ok(!isMnemonic('test test test test test test test test test test test junkk'));
    assert.ok(!isMnemonic(Array(13).fill('test').join(' ')));
  });
});
