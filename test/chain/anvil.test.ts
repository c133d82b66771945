import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnemonicToAccount } from 'viem/accounts';
import { anvilArgs, startAnvil, DEFAULT_ANVIL_MNEMONIC, type AnvilInstance } from '../../src/chain/anvil.ts';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function withAnvil<T>(opts: Parameters<typeof startAnvil>[0], fn: (a: AnvilInstance) => Promise<T>): Promise<T> {
  const anvil = await startAnvil(opts);
  try {
    return await fn(anvil);
  } finally {
    await anvil.stop();
  }
}

describe('startAnvil', () => {
  it('starts on a free loopback port with the requested chain id and answers JSON-RPC', async () => {
    await withAnvil({ chainId: 4242 }, async (anvil) => {
      assert.match(anvil.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(anvil.rpcUrl, `http://127.0.0.1:${anvil.port}`);
      assert.equal(await rpc(anvil.rpcUrl, 'eth_chainId'), '0x1092');
    });
  });

  it('gives two instances their own ports', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil()]);
    try {
      assert.notEqual(a.port, b.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('funds the accounts of the given mnemonic', async () => {
    const mnemonic = 'legal winner thank year wave sausage worth useful legal winner thank yellow';
    await withAnvil({ mnemonic, accounts: 2 }, async (anvil) => {
      const accounts = (await rpc(anvil.rpcUrl, 'eth_accounts')) as string[];
      assert.deepEqual(
        accounts.map((a) => a.toLowerCase()),
        [0, 1].map((i) => mnemonicToAccount(mnemonic, { addressIndex: i }).address.toLowerCase()),
      );
    });
  });

  it('stop() ends the process, and calling it again is harmless', async () => {
    const anvil = await startAnvil();
    await anvil.stop();
    assert.ok(anvil.process.exitCode !== null || anvil.process.signalCode !== null);
    await anvil.stop();
    await assert.rejects(rpc(anvil.rpcUrl, 'eth_chainId'));
  });

  it('keeps chain state across a restart when given a state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anvil-state-'));
    try {
      const statePath = join(dir, 'chain-state.json');
      const who = mnemonicToAccount(DEFAULT_ANVIL_MNEMONIC, { addressIndex: 7 }).address;
      await withAnvil({ statePath, stateInterval: 60 }, async (anvil) => {
        await rpc(anvil.rpcUrl, 'anvil_setBalance', [who, '0x1234']);
        await rpc(anvil.rpcUrl, 'anvil_mine', ['0x5']);
      });
      assert.ok((await stat(statePath)).size > 0, 'state dumped on stop');
      await withAnvil({ statePath }, async (anvil) => {
        assert.equal(await rpc(anvil.rpcUrl, 'eth_getBalance', [who, 'latest']), '0x1234');
        assert.equal(await rpc(anvil.rpcUrl, 'eth_blockNumber'), '0x5');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear error when the port is taken', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address && typeof address === 'object');
    try {
      await assert.rejects(startAnvil({ port: address.port }), /anvil failed to start/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails with a clear error when the binary is missing', async () => {
    await assert.rejects(startAnvil({ binaryPath: join(tmpdir(), 'no-such-anvil') }), /anvil failed to start: .*ENOENT/);
  });
});

describe('anvilArgs', () => {
  it('binds to loopback and maps every option to its flag', () => {
    assert.deepEqual(
      anvilArgs({ port: 8545, statePath: 's.json', stateInterval: 5, blockTime: 2, chainId: 7, mnemonic: 'm', accounts: 3, extraArgs: ['--quiet'] }),
      ['--host', '127.0.0.1', '--port', '8545', '--state', 's.json', '--state-interval', '5', '--block-time', '2', '--chain-id', '7', '--mnemonic', 'm', '--accounts', '3', '--quiet'],
    );
    assert.deepEqual(anvilArgs({}), ['--host', '127.0.0.1', '--port', '0']);
  });

  it('refuses a state interval without a state file', () => {
    assert.throws(() => anvilArgs({ stateInterval: 5 }), /stateInterval needs statePath/);
  });
});

describe('startAnvil with exitWithParent', () => {
  it('serves and stops like a plain anvil, dumping its state on stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anvil-watchdog-'));
    try {
      const statePath = join(dir, 'chain-state.json');
      await withAnvil({ statePath, exitWithParent: true }, async (anvil) => {
        await rpc(anvil.rpcUrl, 'anvil_mine', ['0x3']);
      });
      await withAnvil({ statePath, exitWithParent: true }, async (anvil) => {
        assert.equal(await rpc(anvil.rpcUrl, 'eth_blockNumber'), '0x3');
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends anvil when its parent is killed with SIGKILL', async () => {
    const { spawn } = await import('node:child_process');
    const script = `import { startAnvil } from ${JSON.stringify(new URL('../../src/chain/anvil.ts', import.meta.url).href)};
const a = await startAnvil({ exitWithParent: true });
process.stdout.write(a.rpcUrl + '\\n');
setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const rpcUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        parent.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^(http:\/\/\S+)\n/.exec(out);
          if (m) resolve(m[1]!);
        });
        parent.once('exit', () => reject(new Error(`parent exited early: ${out}`)));
      });
      assert.match(String(await rpc(rpcUrl, 'eth_chainId')), /^0x/);
      parent.kill('SIGKILL');
      let gone = false;
      for (let i = 0; i < 600 && !gone; i++) {
        gone = await rpc(rpcUrl, 'eth_chainId').then(
          () => false,
          () => true,
        );
        if (!gone) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(gone, 'anvil still answers after its parent was killed');
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
