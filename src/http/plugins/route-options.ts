// The plugins that rewrite each route's options as it is registered (onRoute hooks that append
// route-level hooks), registered here in the one order that works. They see only the routes added
// after them, so this plugin goes before any route.
//   1. empty body: a bodyless request validates as {} (preValidation);
//   2. metrics: every later route is measured, so it comes before the others, which also count
//      into its registry (app.metrics);
//   3. CORS: its preflight route is measured (after 2) but not charged (before 4);
//   4. rate limit: its onRequest hook runs after the route's scope's own (auth), so a user is
//      counted by id;
//   5. response cache: lookups after the rate limit charged the request.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { emptyBodyPlugin } from './empty-body.ts';
import { metricsPlugin } from './metrics.ts';
import { corsPlugin, type CorsOptions } from './cors.ts';
import { rateLimitPlugin, type RateLimitOptions } from './rate-limit.ts';
import { responseCachePlugin, type ResponseCachePluginOptions } from './response-cache.ts';

export interface RouteOptionsPluginOptions {
  cors: CorsOptions;
  rateLimit: RateLimitOptions;
  responseCache: ResponseCachePluginOptions;
}

export const routeOptionsPlugin = fp(async (app: FastifyInstance, opts: RouteOptionsPluginOptions) => {
  await app.register(emptyBodyPlugin);
  await app.register(metricsPlugin);
  await app.register(corsPlugin, opts.cors);
  await app.register(rateLimitPlugin, opts.rateLimit);
  await app.register(responseCachePlugin, opts.responseCache);
});
