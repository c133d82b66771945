// Holds the service's port while it starts (migrating, deploying the embedded chain: up to a
// minute on a first start), so a port clash fails at once — before anything is written to
// DATA_DIR — instead of after that minute. Until the app takes over, every request is answered:
// /health 200 (the process is alive; an orchestrator must not kill a slow first start), /ready
// and everything else 503 with Retry-After, in the API's error shape. Then the port is handed over.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '../errors.ts';

export interface StartupListener {
  /** The bound port (the kernel's choice when 0 was asked for). */
  readonly port: number;
  /** Stops answering and frees the port for the app, which listens on `port` next. */
  close(): Promise<void>;
}

/** Why the port cannot be bound, in words that say what to change. */
export class PortUnavailableError extends Error {
  constructor(port: number, host: string, cause: NodeJS.ErrnoException) {
    const why = cause.code === 'EADDRINUSE' ? 'is in use' : cause.code === 'EACCES' ? 'needs privileges this process lacks' : `cannot be bound (${cause.code ?? cause.message})`;
    super(`PORT ${port} ${why} on ${host}; set PORT=<a free port> (or stop the process that holds it)`, { cause });
    this.name = 'PortUnavailableError';
  }
}

const RETRY_AFTER_SECONDS = '5';

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  // Connection: close, so no keep-alive socket outlives the hand-over.
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close', ...headers });
    res.end(JSON.stringify(body));
  };
  if (path === '/health') return send(200, { status: 'ok' });
  if (path === '/ready') return send(503, { status: 'starting', checks: { service: 'starting: migrating the database and opening the chain' } }, { 'retry-after': RETRY_AFTER_SECONDS });
  const requestId = typeof req.headers['x-request-id'] === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
  send(
    503,
    { code: 503, message: 'The service is starting; retry in a few seconds.', error: ErrorCode.ServiceUnavailable, requestId },
    { 'retry-after': RETRY_AFTER_SECONDS, 'x-request-id': requestId },
  );
}

export async function bindStartupListener(port: number, host: string): Promise<StartupListener> {
  const server = http.createServer(answer);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new PortUnavailableError(port, host, e)));
    server.listen({ port, host }, () => resolve());
  });
  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
