// Only registered when tracing is on: names each HTTP server span (instrumentation-http's) after
// its route template and tags it with the request id, so a trace UI finds a request by the
// x-request-id a client reports.
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Tracer } from '../../telemetry/tracer.ts';

export const tracingPlugin = fp(async (app: FastifyInstance, opts: { tracer: Tracer }) => {
  const { tracer } = opts;
  // Per route, like the metrics plugin: the hook knows its template without a per-request look-up.
  app.addHook('onRoute', (route) => {
    const hook: onRequestHookHandler = (req, _reply, done) => {
      tracer.httpRequest(req.id, req.method, route.url);
      done();
    };
    const existing = route.onRequest;
    route.onRequest = existing === undefined ? [hook] : Array.isArray(existing) ? [hook, ...existing] : [hook, existing];
  });
});
