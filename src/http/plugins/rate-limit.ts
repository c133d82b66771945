// Fixed-window rate limit per user, or per IP for anonymous callers (bad tokens included; see
// withAuth). A route opts out with `config: { rateLimit: false }`.
//
// Counters live in this process, so the limit is per replica (as it was with
// @fastify/rate-limit's default in-memory store). The hook is one synchronous callback: that
// plugin's awaited key generator, promises, route-config reads and LRU added ~8 µs per request.
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ErrorCode } from '../errors.ts';
import { createRateWindows } from '../../domain/rate-window.ts';
import { hookList } from './hook-list.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    rateLimit?: false;
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

    const limit: onRequestHookHandler = (req, reply, done) => {
      const t = now();
      const { count, resetAtMs } = windows.hit(req.user ? `u:${req.user.id}` : `ip:${req.ip}`, t);
      const resetS = Math.ceil((resetAtMs - t) / 1000);
      reply.header('ratelimit-limit', max);
      reply.header('ratelimit-remaining', count < max ? max - count : 0);
      reply.header('ratelimit-reset', resetS);
      if (count <= max) return done();
      reply.header('retry-after', resetS);
      done(new AppError(429, ErrorCode.RateLimited, `Rate limit exceeded; retry in ${resetS} s.`));
    };

    // Added to each route as it is registered, so it runs after its scope's (auth) onRequest hooks.
    app.addHook('onRoute', (route) => {
      if (route.config?.rateLimit !== false) route.onRequest = [...hookList(route.onRequest), limit];
    });
  },
  { name: 'rate-limit' },
);
