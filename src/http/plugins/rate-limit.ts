// Fixed-window rate limit per user, or per IP for anonymous callers (bad tokens included; see
// withAuth). A route opts out with `config: { rateLimit: false }`, and may then charge the
// requests that do cost something itself with `app.chargeRateLimit` (public metadata charges
// only the lookups that read the database).
//
// Counters live in this process, so the limit is per replica (as it was with
// @fastify/rate-limit's default in-memory store). The hook is one synchronous callback: that
// plugin's awaited key generator, promises, route-config reads and LRU added ~8 µs per request.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../errors.ts';
import { createRateWindows } from '../../domain/rate-window.ts';
import { hookList } from './hook-list.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: false;
  }
  interface FastifyInstance {
    /** Counts this request against its caller's limit, with the RateLimit-* headers; throws the 429 past it. */
    chargeRateLimit(req: FastifyRequest, reply: FastifyReply): void;
  }
}

export interface RateLimitOptions {
  /** Requests per window and caller. */
  max: number;
  windowMs: number;
  /** Callers tracked at once (default 5000); beyond it the oldest windows are dropped. */
  maxKeys?: number;
  now?: () => number;
}

export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: RateLimitOptions) => {
    const now = opts.now ?? Date.now;
    const windows = createRateWindows({ windowMs: opts.windowMs, maxKeys: opts.maxKeys ?? 5000 });
    const { max } = opts;

    const charge = (req: FastifyRequest, reply: FastifyReply): AppError | undefined => {
      const t = now();
      const { count, resetAtMs } = windows.hit(req.user ? `u:${req.user.id}` : `ip:${req.ip}`, t);
      const resetS = Math.ceil((resetAtMs - t) / 1000);
      reply.header('ratelimit-limit', max);
      reply.header('ratelimit-remaining', count < max ? max - count : 0);
      reply.header('ratelimit-reset', resetS);
      if (count <= max) return undefined;
      reply.header('retry-after', resetS);
      return new AppError(429, ErrorCode.RateLimited, `Rate limit exceeded; retry in ${resetS} s.`);
    };
    const limit: onRequestHookHandler = (req, reply, done) => done(charge(req, reply));

    app.decorate('chargeRateLimit', (req: FastifyRequest, reply: FastifyReply) => {
      const exceeded = charge(req, reply);
      if (exceeded) throw exceeded;
    });

    // Added to each route as it is registered, so it runs after its scope's (auth) onRequest hooks.
    app.addHook('onRoute', (route) => {
      if (route.config?.rateLimit !== false) route.onRequest = [...hookList(route.onRequest), limit];
    });
  },
  { name: 'rate-limit' },
);
