// The one way tests wait for something the system reaches asynchronously (a relayed transaction,
// a closed handle, a cache notification): poll until it holds, fail naming it after a bound.

/** Polls `fn` until it returns something truthy, and returns that; fails after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
