// Saves the embedded anvil's state to DATA_DIR/chain-state.json ourselves instead of leaving it to
// anvil's --state-interval: anvil's periodic dump trails the chain by up to the interval and
// rewrites the file in place, so a kill of the whole tree (server, watchdog and anvil at once, as
// a container stop does) either lost the last seconds of blocks — while the database had already
// shown them — or left a half-written file. Here every save is a complete file renamed into place,
// and the indexer asks for one (persistThrough) before it applies a block the file lacks.
// A rename survives a killed process; surviving power loss would also need fsync, which is not
// the embedded mode's promise.
import fs from 'node:fs';
import zlib from 'node:zlib';

export interface StateSaver {
  /** Dumps anvil's state now and renames it into place; resolves with the latest block it holds. */
  save(): Promise<bigint>;
  /** Resolves once the file holds `block` (saving when it does not yet). */
  persistThrough(block: bigint): Promise<void>;
  /** Ends the periodic saves and waits for one in flight (anvil then dumps on SIGTERM itself). */
  stop(): Promise<void>;
}

export interface StateSaverOptions {
  rpcUrl: string;
  statePath: string;
  /** Periodic saves while blocks are added (also catches blocks no indexer asked for). */
  intervalMs: number;
  /** The block the file already holds (the loaded state's head), -1n when none. */
  savedThrough?: bigint;
  logger?: { warn?(obj: object, msg: string): void };
}

async function rpc<T>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { result?: T; error?: { message?: string } };
  if (body.error || body.result === undefined) throw new Error(`anvil ${method}: ${body.error?.message ?? `HTTP ${res.status}`}`);
  return body.result;
}

export function createStateSaver(o: StateSaverOptions): StateSaver {
  let savedThrough = o.savedThrough ?? -1n;
  let inFlight: Promise<bigint> | null = null;
  let stopped = false;

  async function saveOnce(): Promise<bigint> {
    // anvil_dumpState: the gzipped JSON that --state reads back (best_block_number, blocks, accounts…).
    const hex = await rpc<string>(o.rpcUrl, 'anvil_dumpState');
    const json = zlib.gunzipSync(Buffer.from(hex.slice(2), 'hex'));
    const head = BigInt((JSON.parse(json.toString('utf8')) as { best_block_number: string | number }).best_block_number);
    const tmp = `${o.statePath}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, json);
    await fs.promises.rename(tmp, o.statePath);
    if (head > savedThrough) savedThrough = head;
    return head;
  }

  const save = (): Promise<bigint> => {
    inFlight ??= saveOnce().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    void rpc<string>(o.rpcUrl, 'eth_blockNumber')
      .then((head) => (BigInt(head) > savedThrough ? save() : undefined))
      .catch((err: unknown) => o.logger?.warn?.({ err: err instanceof Error ? err.message : String(err) }, 'embedded chain: saving its state failed; retrying'));
  }, o.intervalMs);
  timer.unref();

  return {
    save,
    async persistThrough(block) {
      // A save already running may have started before `block` was added: then save again.
      for (let attempt = 0; savedThrough < block; attempt++) {
        const head = await save();
        if (head < block && attempt >= 2) throw new Error(`anvil's state holds block ${head}, not yet ${block}`);
      }
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight?.catch(() => {});
    },
  };
}
