// Fixed-window rate limit per user, or per IP for anonymous callers (bad tokens included; see
// withAuth). A route opts out with `config: { rateLimit: false }`, and may then charge the
// requests that do cost something itself with `app.chargeRateLimit` (public metadata charges
// only the lookups that read the database).
//
// Counters live in this process, so the limit is per replica, unless a shared counter (Redis,
// REDIS_URL) is given: then every replica counts against one budget. Without it the hook is one
// synchronous callback: @fastify/rate-limit's awaited key generator, promises, route-config
// reads and LRU added ~8 µs per request. With it, a hit the store cannot answer (an outage, a
// timeout) is counted here instead: failing open to the per-replica limit, with a warning and a
// metric, never an error for the caller. `chargeRateLimit` is synchronous and counts here always.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { Counter } from 'prom-client';
import { AppError, ErrorCode } from '../../errors.ts';
import type { SharedRateCounter } from '../../storage/redis-rate-counter.ts';
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
  /** Counters shared by replicas (Redis); omit to count in this process only. */
  shared?: SharedRateCounter;
}

/** At most one warning per this long while the shared counter fails. */
const WARN_EVERY_MS = 30_000;

export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: RateLimitOptions) => {
    const now = opts.now ?? Date.now;
    const windows = createRateWindows({ windowMs: opts.windowMs, maxKeys: opts.maxKeys ?? 5000 });
    const { max } = opts;

    /** The RateLimit-* headers for a hit, and the 429 past the limit. */
    const verdict = (reply: FastifyReply, count: number, resetInMs: number): AppError | undefined => {
      const resetS = Math.ceil(resetInMs / 1000);
      reply.header('ratelimit-limit', max);
      reply.header('ratelimit-remaining', count < max ? max - count : 0);
      reply.header('ratelimit-reset', resetS);
      if (count <= max) return undefined;
      reply.header('retry-after', resetS);
      return new AppError(429, ErrorCode.RateLimited, `Rate limit exceeded; retry in ${resetS} s.`);
    };
    const keyOf = (req: FastifyRequest) => (req.user ? `u:${req.user.id}` : `ip:${req.ip}`);
    const charge = (req: FastifyRequest, reply: FastifyReply): AppError | undefined => {
      const t = now();
      const { count, resetAtMs } = windows.hit(keyOf(req), t);
      return verdict(reply, count, resetAtMs - t);
    };
    const limit: onRequestHookHandler = opts.shared ? sharedLimit(app, opts.shared, opts.windowMs, verdict, charge) : (req, reply, done) => done(charge(req, reply));

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

/** The hook with a shared counter: its answer decides; if it has none in time, this process's count does. */
function sharedLimit(
  app: FastifyInstance,
  shared: SharedRateCounter,
  windowMs: number,
  verdict: (reply: FastifyReply, count: number, resetInMs: number) => AppError | undefined,
  local: (req: FastifyRequest, reply: FastifyReply) => AppError | undefined,
): onRequestHookHandler {
  const failures = new Counter({
    name: 'rate_limit_shared_store_failures_total',
    help: 'Rate-limit hits the shared store (Redis) did not answer in time; those requests were counted in this process instead',
    registers: [app.metrics],
  });
  let warnedAt = -Infinity;
  const failed = (err: unknown) => {
    failures.inc();
    const t = Date.now();
    if (t - warnedAt < WARN_EVERY_MS) return;
    warnedAt = t;
    app.log.warn({ err }, 'rate limit: Redis did not answer; counting in this process (per replica) until it does');
  };
  return (req, reply, done) => {
    shared.hit(req.user ? `u:${req.user.id}` : `ip:${req.ip}`, windowMs).then(
      (h) => done(verdict(reply, h.count, h.resetInMs)),
      (err: unknown) => {
        failed(err);
        done(local(req, reply));
      },
    );
  };
}
