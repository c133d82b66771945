// Our saves of anvil's state: a whole file renamed into place that anvil loads back, written
// before a block is needed on disk (persistThrough) and not again while nothing changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAnvil } from '../../src/chain/anvil.ts';
import { createStateSaver } from '../../src/chain/anvil-state.ts';

async function rpc(url: string, method: string, params: unknown[] = []): Promise<string> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  return ((await res.json()) as { result: string }).result;
}

const savedHead = (file: string) => BigInt((JSON.parse(fs.readFileSync(file, 'utf8')) as { best_block_number: number | string }).best_block_number);

describe('anvil state saver', () => {
  it('puts a block on disk before persistThrough resolves, as a file anvil loads back after a kill', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anvil-saver-'));
    const statePath = path.join(dir, 'chain-state.json');
    try {
      const first = await startAnvil({ statePath });
      const saver = createStateSaver({ rpcUrl: first.rpcUrl, statePath, intervalMs: 3_600_000 });
      try {
        await rpc(first.rpcUrl, 'anvil_mine', ['0x3']);
        await saver.persistThrough(3n);
        assert.equal(savedHead(statePath), 3n);
        const mtime = fs.statSync(statePath).mtimeMs;
        await saver.persistThrough(2n); // already on disk: no new save
        assert.equal(fs.statSync(statePath).mtimeMs, mtime);
        assert.deepEqual(fs.readdirSync(dir), ['chain-state.json'], 'no temporary file left behind');
      } finally {
        await saver.stop();
        first.process.kill('SIGKILL'); // no dump of its own on the way out
        await first.stop();
      }
      const second = await startAnvil({ statePath });
      try {
        assert.equal(await rpc(second.rpcUrl, 'eth_blockNumber'), '0x3');
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
