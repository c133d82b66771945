// Prometheus metrics on a registry owned by this app instance (no global registry).
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

export const metricsPlugin = fp(async (app: FastifyInstance) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  const observe = (route: string, req: FastifyRequest, reply: FastifyReply) =>
    duration.observe({ method: req.method, route, status_code: reply.statusCode }, reply.elapsedTime / 1000);
  app.decorate('metrics', registry);

  // Each route gets a hook that knows its template: looking it up per request (req.routeOptions)
  // builds a dozen-field object every time.
  app.addHook('onRoute', (route) => {
    const template = route.url;
    const hook: onResponseHookHandler = (req, reply, done) => {
      observe(template, req, reply);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
  // Unmatched routes share one label so random URLs cannot blow up the series count.
  app.addHook('onResponse', (req, reply, done) => {
    if (req.is404) observe('unmatched', req, reply);
    done();
  });

  app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
});
