// Request ids and security headers from one hook (helmet halves throughput on a JSON API).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

export const securityPlugin = fp(async (app: FastifyInstance, opts: { hsts: boolean; docsPrefix: string }) => {
  // Built once: the hook runs on every response, and a callback hook costs no promise.
  const headers: [string, string][] = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['referrer-policy', 'no-referrer'],
    ['cross-origin-opener-policy', 'same-origin'],
    ...(opts.hsts ? [['strict-transport-security', 'max-age=31536000; includeSubDomains'] as [string, string]] : []),
  ];
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    for (const [name, value] of headers) reply.header(name, value);
    // Swagger UI needs its own scripts and styles.
    if (!req.url.startsWith(opts.docsPrefix)) reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    done(null, payload);
  });
});
