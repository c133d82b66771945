// A manufacturer's device cloud speaking docs/firmware-connector.md, on 127.0.0.1, with hooks to
// make it slow, wrong or failing.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudUpdateStatus } from '../../src/firmware/connector.ts';

export interface FakeDevice {
  currentVersion: string | null;
  latestVersion: string | null;
  lastSeenAt: string | null;
}

export interface FakeUpdate {
  readonly serial: string;
  readonly toVersion: string;
  status: CloudUpdateStatus;
  /** Statuses reported on the following polls, one per poll. */
  readonly next: CloudUpdateStatus[];
  readonly error: string | null;
}

export interface SeenRequest {
  readonly method: string;
  /** Without the base URL's path prefix, still percent-encoded. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers a request itself when it returns true; the fake's normal behaviour otherwise. */
export type Intercept = (req: SeenRequest, res: ServerResponse) => boolean;

export interface FakeCloud {
  readonly baseUrl: string;
  readonly token: string;
  readonly devices: Map<string, FakeDevice>;
  readonly updates: Map<string, FakeUpdate>;
  readonly requests: SeenRequest[];
  /** How new updates progress after "pending"; the last one is where they stay. */
  progress: CloudUpdateStatus[];
  /** The error text reported by updates whose progress ends in "failed". */
  failureText: string;
  intercept: Intercept | null;
  close(): Promise<void>;
}

export const PREFIX = '/dimo/v1';

export async function startFakeCloud(token = 'cloud-token-7d1e'): Promise<FakeCloud> {
  const unanswered = new Set<ServerResponse>();
  const idempotent = new Map<string, string>();
  let counter = 0;

  const server = createServer((req, res) => {
    res.shouldKeepAlive = false; // one request per connection: no socket outlives its test
    unanswered.add(res);
    res.on('close', () => unanswered.delete(res));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: url.startsWith(PREFIX) ? url.slice(PREFIX.length) : url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      cloud.requests.push(seen);
      if (cloud.intercept?.(seen, res)) return;
      handle(seen, res);
    });
  });

  function json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  function handle(req: SeenRequest, res: ServerResponse): void {
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { error: 'unauthorized' });
    const m = /^\/devices\/([^/]+)\/firmware(?:\/updates(?:\/([^/]+))?)?$/.exec(req.path);
    if (!m) return json(res, 404, { error: 'not_found' });
    const serial = decodeURIComponent(m[1]!);
    const device = cloud.devices.get(serial);
    if (!device) return json(res, 404, { error: 'device_not_found' });
    const isUpdates = req.path.includes('/updates');

    if (req.method === 'GET' && !isUpdates) return json(res, 200, device);

    if (req.method === 'POST' && isUpdates && m[2] === undefined) {
      let toVersion: unknown;
      try {
        toVersion = (JSON.parse(req.body) as { toVersion?: unknown }).toVersion;
      } catch {
        return json(res, 400, { error: 'bad_json' });
      }
      if (typeof toVersion !== 'string') return json(res, 400, { error: 'toVersion required' });
      const key = req.headers['idempotency-key'];
      const existing = typeof key === 'string' ? idempotent.get(key) : undefined;
      if (existing !== undefined) return json(res, 200, { updateId: existing, status: cloud.updates.get(existing)!.status });
      counter += 1;
      const updateId = `upd-${counter}`;
      const next = [...cloud.progress];
      cloud.updates.set(updateId, {
        serial,
        toVersion,
        status: 'pending',
        next,
        error: next.at(-1) === 'failed' ? cloud.failureText : null,
      });
      if (typeof key === 'string') idempotent.set(key, updateId);
      return json(res, 202, { updateId, status: 'pending' });
    }

    if (req.method === 'GET' && m[2] !== undefined) {
      const updateId = decodeURIComponent(m[2]);
      const update = cloud.updates.get(updateId);
      if (!update || update.serial !== serial) return json(res, 404, { error: 'update_not_found' });
      const step = update.next.shift();
      if (step !== undefined) update.status = step;
      if (update.status === 'succeeded') device.currentVersion = update.toVersion;
      return json(res, 200, {
        updateId,
        status: update.status,
        ...(update.status === 'failed' ? { error: update.error } : {}),
      });
    }
    return json(res, 405, { error: 'method_not_allowed' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cloud: FakeCloud = {
    baseUrl: `http://127.0.0.1:${port}${PREFIX}`,
    token,
    devices: new Map(),
    updates: new Map(),
    requests: [],
    progress: ['in_progress', 'succeeded'],
    failureText: 'device rejected the image',
    intercept: null,
    close() {
      for (const res of unanswered) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return cloud;
}
