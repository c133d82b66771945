// One webhook attempt over node:http(s): a POST with the signed body, 10 s for the whole exchange,
// at most 64 KiB of the answer read, redirects not followed (a 3xx is a failure), and the
// connection made to an address the URL policy accepted (resolvingLookup: no DNS rebinding).
import http from 'node:http';
import https from 'node:https';
import { checkWebhookUrl, resolvingLookup, type Resolver, type UrlPolicy } from './url-policy.ts';

export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The answer's status, or null when none came (refused, timed out, connection failed). */
  statusCode: number | null;
  /** Why it failed, for the deliveries log; null on success. */
  error: string | null;
}

export interface SendOptions {
  policy: UrlPolicy;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Name resolution (tests pin answers); the system resolver by default. */
  resolve?: Resolver;
}

export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult>;
  close(): void;
}

export function createWebhookSender(o: SendOptions): WebhookSender {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxResponseBytes = o.maxResponseBytes ?? 64 * 1024;
  const lookup = resolvingLookup(o.policy, o.resolve);
  // Keep-alive: a receiver getting many events reuses its connections (each was checked when made).
  const agents = { 'http:': new http.Agent({ keepAlive: true, lookup }), 'https:': new https.Agent({ keepAlive: true, lookup }) };

  async function send(target: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const checked = checkWebhookUrl(target, o.policy);
    if (!checked.ok) return { ok: false, statusCode: null, error: checked.message };
    const url = checked.url;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = mod.request(url, {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        lookup,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'devices-api-webhooks/1' },
      });
      const timer = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs / 1000} s`)), timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, statusCode: null, error: err.message || err.code || 'connection failed' }));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          // The rest is not read: its connection is closed rather than drained.
          if (size > maxResponseBytes) res.destroy();
        });
        const done = () => {
          const ok = status >= 200 && status < 300;
          const error = ok ? null : status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
          finish({ ok, statusCode: status, error });
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      });
      req.end(body);
    });
  }

  return {
    send,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
