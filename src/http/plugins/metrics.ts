// Prometheus metrics on a registry owned by this app instance (no global registry).
import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { createSeriesHistogram, type HistogramSeries } from '../../domain/series-histogram.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export interface MetricsPluginOptions {
  /** The registry to serve (the one the services count into, ServiceDeps.metrics); default a new one. */
  registry?: Registry | undefined;
}

export const metricsPlugin = fp(async (app: FastifyInstance, opts: MetricsPluginOptions) => {
  const registry = opts.registry ?? new Registry();
  collectDefaultMetrics({ register: registry });
  // Request durations are counted outside prom-client (see series-histogram.ts) and listed after
  // the registry's metrics.
  const durations = createSeriesHistogram(DURATION_BUCKETS);
  app.decorate('metrics', registry);

  /** Observes a response of one route template into the series of its method and status. */
  const routeObserver = (route: string): onResponseHookHandler => {
    const byStatus = new Map<number, Map<string, HistogramSeries>>();
    return (req, reply, done) => {
      const status = reply.statusCode;
      let byMethod = byStatus.get(status);
      if (!byMethod) byStatus.set(status, (byMethod = new Map()));
      let series = byMethod.get(req.method);
      if (!series) byMethod.set(req.method, (series = durations.series({ method: req.method, route, status_code: status })));
      series.observe(reply.elapsedTime / 1000);
      done();
    };
  };

  // Each route gets an observer that knows its template: looking it up per request
  // (req.routeOptions) builds a dozen-field object every time.
  app.addHook('onRoute', (route) => {
    const hook = routeObserver(route.url);
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [hook] : Array.isArray(existing) ? [...existing, hook] : [existing, hook];
  });
  // Unmatched routes share one label so random URLs cannot blow up the series count.
  const unmatched = routeObserver('unmatched');
  app.addHook('onResponse', (req, reply, done) => (req.is404 ? unmatched.call(app, req, reply, done) : done()));

  app.get('/metrics', { config: { rateLimit: false }, schema: { hide: true } }, async (_req, reply) => {
    const text = (await registry.metrics()) + '\n' + durations.render('http_request_duration_seconds', 'HTTP request duration by route and status');
    return reply.type(registry.contentType).send(text);
  });
});
