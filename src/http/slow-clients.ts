// Slow and stalled clients. Headers must arrive within REQUEST_TIMEOUT_MS (Node's headersTimeout,
// checked often enough to mean it: Node looks only every connectionsCheckingInterval, 30 s by
// default). Bodies are timed here instead of by Node's requestTimeout, which would also cut a slow
// but moving upload: an ordinary body must be complete within the timeout, an upload may take
// as long as it likes but may not pause for that long. One address holds at most
// MAX_CONNECTIONS_PER_IP sockets (trusted proxies excepted), so no client can pin them all.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { BlockList, isIPv4, type Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Counter } from 'prom-client';

export interface SlowClientOptions {
  requestTimeoutMs: number;
  /** 0: unbounded. */
  maxConnectionsPerIp: number;
  /** Requests whose body gets an idle timeout instead of a total one. */
  isUpload(req: IncomingMessage): boolean;
  /** Addresses the connection bound does not apply to (trusted proxies, which carry many clients). */
  unbounded?: (address: string) => boolean;
}

type Reason = 'headers_timeout' | 'body_timeout' | 'upload_idle' | 'connection_limit';

/** A client error: Node's (a code), or our body timeout (Node's timeout code, plus which one). */
type ClientError = Error & { code?: string; bodyTimeout?: Reason };

interface Tracked {
  req: IncomingMessage;
  res: ServerResponse;
  upload: boolean;
  /** When the body started (total timeout) or last moved (uploads). */
  since: number;
  bytesRead: number;
}

/** How often stalled bodies (and Node, stalled headers) are looked for: a fifth of the timeout, between 250 ms and Node's 30 s default. */
export function checkIntervalMs(requestTimeoutMs: number): number {
  return Math.min(30_000, Math.max(250, Math.floor(requestTimeoutMs / 5)));
}

export function createSlowClientGuard(opts: SlowClientOptions) {
  const { requestTimeoutMs, maxConnectionsPerIp } = opts;
  // Both set by install(); client errors cannot happen before the app listens.
  let cutoffs: Counter<'reason'> | undefined;
  let log: FastifyBaseLogger | undefined;
  const count = (reason: Reason) => cutoffs?.inc({ reason });

  const message = `The request was not received within ${requestTimeoutMs} ms (REQUEST_TIMEOUT_MS); an upload may not pause that long.`;

  /**
   * For the app's one clientErrorHandler (src/http/plugins/errors.ts), which writes the answer:
   * counts a timeout by reason and says what to change; undefined for any other client error.
   */
  function describeTimeout(err: ClientError): string | undefined {
    if (err.code !== 'ERR_HTTP_REQUEST_TIMEOUT' && err.code !== 'ERR_HTTP_REQUEST_HEADERS_TIMEOUT') return undefined;
    count(err.bodyTimeout ?? 'headers_timeout');
    log?.debug({ err }, 'slow client cut off');
    return message;
  }

  const serverOptions = {
    http: {
      headersTimeout: requestTimeoutMs,
      // Off: bodies are timed below, so that uploads get an idle timeout instead.
      requestTimeout: 0,
      connectionsCheckingInterval: checkIntervalMs(requestTimeoutMs),
    } satisfies ServerOptions,
  };

  /** Installs the body timers, the connection bound and their metric on a built (not yet listening) app. */
  function install(app: FastifyInstance): void {
    const server: Server = app.server;
    log = app.log;
    cutoffs = new Counter({
      name: 'http_slow_client_cutoffs_total',
      help: 'Connections cut because a client was too slow (headers/body timeout, upload idle) or held too many (connection_limit)',
      labelNames: ['reason'],
      registers: [app.metrics],
    });

    const bodies = new Set<Tracked>();
    let sweeper: NodeJS.Timeout | undefined;
    const expire = (t: Tracked, reason: Reason) => {
      bodies.delete(t);
      const socket = t.req.socket;
      if (t.res.headersSent) {
        count(reason);
        socket.destroy();
      } else {
        server.emit('clientError', Object.assign(new Error(message), { code: 'ERR_HTTP_REQUEST_TIMEOUT', bodyTimeout: reason }), socket);
      }
    };
    const sweep = () => {
      const now = Date.now();
      for (const t of bodies) {
        if (t.req.complete || t.req.socket.destroyed) {
          bodies.delete(t);
        } else if (t.upload) {
          // Progress: new bytes on the socket, or bytes waiting for us (then the slow side is ours).
          const read = t.req.socket.bytesRead;
          if (read !== t.bytesRead || t.req.readableLength > 0) {
            t.bytesRead = read;
            t.since = now;
          } else if (now - t.since >= requestTimeoutMs) {
            expire(t, 'upload_idle');
          }
        } else if (now - t.since >= requestTimeoutMs) {
          expire(t, 'body_timeout');
        }
      }
      if (bodies.size === 0) {
        clearInterval(sweeper);
        sweeper = undefined;
      }
    };
    // After Fastify's own listener; a request without a body (most of them) costs two header reads.
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const length = req.headers['content-length'];
      if ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined) return;
      if (req.complete) return;
      bodies.add({ req, res, upload: opts.isUpload(req), since: Date.now(), bytesRead: req.socket.bytesRead });
      sweeper ??= setInterval(sweep, checkIntervalMs(requestTimeoutMs)).unref();
    });
    server.on('close', () => clearInterval(sweeper));

    if (maxConnectionsPerIp > 0) {
      const open = new Map<string, number>();
      server.on('connection', (socket: Socket) => {
        const address = socket.remoteAddress;
        if (address === undefined || opts.unbounded?.(address)) return;
        const n = (open.get(address) ?? 0) + 1;
        if (n > maxConnectionsPerIp) {
          count('connection_limit');
          socket.destroy();
          return;
        }
        open.set(address, n);
        socket.once('close', () => {
          const left = open.get(address)! - 1;
          if (left > 0) open.set(address, left);
          else open.delete(address);
        });
      });
    }
  }

  return { serverOptions, install, describeTimeout };
}

/** Whether an address is one of the listed addresses/CIDRs (IPv4-mapped IPv6 addresses count as IPv4). */
export function addressMatcher(list: string[]): (address: string) => boolean {
  const blocks = new BlockList();
  for (const entry of list) {
    const [ip, bits] = entry.split('/') as [string, string | undefined];
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (bits === undefined) blocks.addAddress(ip, family);
    else blocks.addSubnet(ip, Number(bits), family);
  }
  return (address) => {
    const v4 = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return blocks.check(v4, isIPv4(v4) ? 'ipv4' : 'ipv6');
  };
}
